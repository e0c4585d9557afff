"""The accounts app's client errors: stable codes, Chinese messages, all in the house
envelope (backend.conventions.errors)."""

from __future__ import annotations

from rest_framework import exceptions

from backend.conventions.errors import ApiError


class RetryLater(ApiError):
    """A refusal that lifts by itself; the shared handler sends `Retry-After`."""

    def __init__(self, code: str, message: str, *, retry_after: int, status_code: int = 429) -> None:
        super().__init__(code, message, status_code=status_code, retry_after=max(1, int(retry_after)))


class AuthenticationRejected(ApiError, exceptions.AuthenticationFailed):
    """A bad credential on an authenticated endpoint. Being an AuthenticationFailed too,
    DRF keeps it a 401 and attaches the WWW-Authenticate challenge."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, status_code=401)


def invalid_credentials() -> ApiError:
    # One answer for an unknown login and a wrong password: no account enumeration.
    return ApiError("invalid_credentials", "账号或密码错误", status_code=401)


def account_locked(*, retry_after: int) -> RetryLater:
    minutes = max(1, -(-retry_after // 60))
    return RetryLater("account_locked", f"登录失败次数过多，请 {minutes} 分钟后再试", retry_after=retry_after)


def token_invalid() -> ApiError:
    return ApiError("token_invalid", "登录已失效，请重新登录", status_code=401)


def account_disabled() -> ApiError:
    return ApiError("account_disabled", "账号已停用，请联系学校", status_code=401)


def invalid_phone(field: str = "phone") -> ApiError:
    return ApiError("invalid_phone", "手机号格式不正确", fields={field: ["请输入 11 位中国大陆手机号"]})


def invalid_code() -> ApiError:
    # Wrong, expired, used, superseded and burnt codes all answer the same way.
    return ApiError("invalid_code", "验证码错误或已失效，请重新获取", fields={"code": ["验证码无效"]})


def sms_code_rate_limited(*, window: str, retry_after: int, per_address: bool) -> RetryLater:
    if window == "day":
        message = "今日获取验证码次数已达上限，请明天再试"
    elif retry_after < 60:
        message = f"获取验证码过于频繁，请 {retry_after} 秒后再试"
    else:
        message = f"获取验证码次数过多，请 {-(-retry_after // 60)} 分钟后再试"
    if per_address:
        message = "当前网络" + message
    return RetryLater("sms_code_rate_limited", message, retry_after=retry_after)
