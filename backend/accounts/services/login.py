"""Logging in to the app: by password (django-axes lockout) or by a code sent by SMS.

Every success, failure and lockout is audited. Passwords and codes are never recorded;
a login that matches no account is recorded masked, since people type passwords into
the login box by mistake."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import cast

from axes.helpers import get_failure_limit
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from backend.accounts.auth_backends import find_user_by_login, normalize_login
from backend.accounts.errors import (
    account_locked,
    invalid_code,
    invalid_credentials,
    invalid_phone,
    sms_code_rate_limited,
)
from backend.accounts.lockout import lockout_retry_after
from backend.accounts.models import SmsLoginCode, User
from backend.accounts.phones import InvalidPhone, mask_phone, normalize_cn_mobile
from backend.accounts.rate_limits import RateLimitExceeded, rate_limit_hit
from backend.audit.models import AuditRecord
from backend.audit.services import audit_record
from backend.sms.services import sms_send_verification_code

from .tokens import TokenPair, token_pair_issue
from .users import user_mark_app_login

SMS_CODE_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class LoginResult:
    user: User
    tokens: TokenPair


def _login_succeeded(*, user: User, request: HttpRequest, method: str) -> LoginResult:
    with transaction.atomic():
        tokens = token_pair_issue(user=user)
        update_last_login(User, user)
        user_mark_app_login(user=user)
        audit_record(action="auth.login", actor=user, obj=user, request=request, detail={"method": method})
    return LoginResult(user=user, tokens=tokens)


def _masked_login(login: str) -> str:
    if len(login) == 11 and login.isdigit():
        return mask_phone(login)
    return f"{login[:2]}***" if len(login) > 4 else "***"


def _audit_failure(*, action: str, request: HttpRequest, login: str, method: str, reason: str) -> None:
    """Recorded outside any transaction, so the refusal that follows cannot roll it back."""
    user = find_user_by_login(login)
    detail = {"method": method, "reason": reason}
    if user is None:
        detail["login"] = _masked_login(login)
    audit_record(
        action=action,
        obj=user,
        result=AuditRecord.Result.FAILURE if action == "auth.login_failed" else AuditRecord.Result.DENIED,
        request=request,
        detail=detail,
    )


def token_obtain_by_password(*, request: HttpRequest, login: str, password: str) -> LoginResult:
    """Log in with a phone number or student number and a password.

    django-axes counts failures per login and per client address (5 within 15 minutes
    lock either); it needs the real HttpRequest and the login under its form field name.
    Unknown logins and wrong passwords are refused alike (401 invalid_credentials); the
    failure that reaches the limit and every attempt while locked answer 429
    account_locked, even with the right password."""
    login = normalize_login(login)
    user = cast(User | None, authenticate(request=request, username=login, login=login, password=password))
    if user is not None:
        if settings.AXES_RESET_ON_SUCCESS:
            # Only the account's own failures: resetting the address too would let one
            # valid account launder guesses against others from the same address.
            axes_reset(username=login)
        return _login_succeeded(user=user, request=request, method="password")

    locked = bool(getattr(request, "axes_locked_out", False))
    # axes counts this attempt (None when it was refused uncounted while locked); the
    # count equals the limit only on the failure that set the lock off. Any other locked
    # attempt was refused before the password was looked at.
    failures = getattr(request, "axes_failures_since_start", None)
    password_checked = not locked or failures == get_failure_limit(request, {"login": login})
    if password_checked:
        _audit_failure(
            action="auth.login_failed",
            request=request,
            login=login,
            method="password",
            reason="invalid_credentials",
        )
    if not locked:
        raise invalid_credentials()
    retry_after = lockout_retry_after(login=login, ip=getattr(request, "axes_ip_address", None))
    _audit_failure(
        action="auth.locked_out",
        request=request,
        login=login,
        method="password",
        reason="limit_reached" if password_checked else "locked",
    )
    raise account_locked(retry_after=retry_after)


def _normalized_phone(phone: str) -> str:
    try:
        return normalize_cn_mobile(phone)
    except InvalidPhone:
        raise invalid_phone() from None


def _code_hash(phone: str, code: str) -> str:
    # Keyed with SECRET_KEY: six digits are trivial to brute-force from a plain hash.
    return salted_hmac("backend.accounts.sms_login_code", f"{phone}:{code}", algorithm="sha256").hexdigest()


def sms_login_code_send(*, phone: str, ip: str | None) -> None:
    """Text a 6-digit login code to `phone` (valid 5 minutes, single use; a new code
    supersedes older ones).

    Limits per number (SMS_LOGIN_CODE_LIMITS) and per client address
    (SMS_LOGIN_CODE_IP_LIMITS) answer 429 sms_code_rate_limited. A number with no
    active account passes the same checks and answers the same, but nothing is sent:
    the endpoint must not tell who has an account."""
    phone = _normalized_phone(phone)
    # The address first: a flooding address must not use up its victims' numbers.
    for scope, ident, limits in (
        ("sms_code_ip", ip, settings.SMS_LOGIN_CODE_IP_LIMITS),
        ("sms_code_phone", phone, settings.SMS_LOGIN_CODE_LIMITS),
    ):
        if not ident:
            continue
        try:
            rate_limit_hit(scope=scope, ident=ident, limits=limits)
        except RateLimitExceeded as exc:
            raise sms_code_rate_limited(
                window=exc.window, retry_after=exc.retry_after, per_address=scope == "sms_code_ip"
            ) from None
    if not User.objects.filter(phone=phone, is_active=True).exists():
        return
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        SmsLoginCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        SmsLoginCode.objects.create(
            phone=phone, code_hash=_code_hash(phone, code), expires_at=now + settings.SMS_LOGIN_CODE_TTL
        )
        sms_send_verification_code(phone=phone, code=code)  # sends once this commits


def _sms_login_code_use(*, phone: str, code: str) -> str | None:
    """Spend the current code of `phone`. Returns None when `code` matched, else why not.
    A wrong guess is counted (and committed); the fifth burns the code."""
    now = timezone.now()
    with transaction.atomic():
        current = (
            SmsLoginCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-id")
            .first()
        )
        if current is None:
            return "no_active_code"
        if current.failed_attempts >= SMS_CODE_MAX_ATTEMPTS:
            return "too_many_attempts"
        if not constant_time_compare(current.code_hash, _code_hash(phone, code)):
            current.failed_attempts += 1
            current.save(update_fields=["failed_attempts"])
            return "wrong_code"
        current.used_at = now
        current.save(update_fields=["used_at"])
        return None


def token_obtain_by_sms_code(*, request: HttpRequest, phone: str, code: str) -> LoginResult:
    """Log in with a code from sms_login_code_send. Wrong, expired, used, superseded and
    burnt codes all answer 400 invalid_code."""
    phone = _normalized_phone(phone)
    refusal = _sms_login_code_use(phone=phone, code=code.strip())
    user = None if refusal else User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        reason = refusal or "account_unavailable"
        _audit_failure(action="auth.login_failed", request=request, login=phone, method="sms", reason=reason)
        raise invalid_code()
    return _login_succeeded(user=user, request=request, method="sms")
