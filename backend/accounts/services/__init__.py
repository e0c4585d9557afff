"""Writes about people: accounts, devices, login and tokens. Import from here."""

from .devices import device_delete, device_register, devices_forget
from .login import LoginResult, sms_login_code_send, token_obtain_by_password, token_obtain_by_sms_code
from .passwords import IssuedPassword, student_passwords_issue
from .tokens import TokenPair, token_pair_issue, token_refresh, token_revoke, tokens_revoke_all
from .users import user_deactivate, user_ensure, user_mark_app_login

__all__ = [
    "IssuedPassword",
    "LoginResult",
    "TokenPair",
    "device_delete",
    "device_register",
    "devices_forget",
    "sms_login_code_send",
    "student_passwords_issue",
    "token_obtain_by_password",
    "token_obtain_by_sms_code",
    "token_pair_issue",
    "token_refresh",
    "token_revoke",
    "tokens_revoke_all",
    "user_deactivate",
    "user_ensure",
    "user_mark_app_login",
]
