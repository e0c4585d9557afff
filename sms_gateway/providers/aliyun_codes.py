"""Aliyun Dysmsapi error codes mapped to :class:`~sms_gateway.errors.ErrorClass` (data)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from sms_gateway.callbacks import SHANGHAI
from sms_gateway.errors import ErrorClass, SmsFailure

_R, _D, _H = ErrorClass.RETRYABLE, ErrorClass.DEFERRED, ErrorClass.ACCOUNT_HALT
_N, _Q, _C = ErrorClass.PERMANENT_NUMBER, ErrorClass.PERMANENT_REQUEST, ErrorClass.CONFIGURATION

#: Documented Dysmsapi / OpenAPI gateway codes. Any code not listed falls back by prefix
#: and HTTP status in :func:`classify`.
ALIYUN_ERROR_CLASSES: Final = MappingProxyType(
    {
        # Transient: nothing was accepted, resending is safe.
        "isp.SYSTEM_ERROR": _R,
        "isp.GATEWAY_ERROR": _R,
        "isp.UNKNOWN": _R,
        "ServiceUnavailable": _R,
        "InternalError": _R,
        "Throttling": _R,
        "Throttling.User": _R,
        "Throttling.Api": _R,
        "SignatureNonceUsed": _R,  # the next attempt is signed with a fresh nonce
        # Rate windows: resend later.
        "isv.BUSINESS_LIMIT_CONTROL": _D,
        "isv.DAY_LIMIT_CONTROL": _D,
        # The account cannot send at all.
        "isv.AMOUNT_NOT_ENOUGH": _H,
        "isv.OUT_OF_SERVICE": _H,
        "isv.ACCOUNT_ABNORMAL": _H,
        "isv.ACCOUNT_NOT_EXISTS": _H,
        "isv.PRODUCT_UN_SUBSCRIPT": _H,
        "isv.PRODUCT_UNSUBSCRIBE": _H,
        "isv.SECURITY_FROZEN_ACCOUNT": _H,
        # This number.
        "isv.MOBILE_NUMBER_ILLEGAL": _N,
        # This request (parameters or content).
        "isv.MOBILE_COUNT_OVER_LIMIT": _Q,
        "isv.BLACK_KEY_CONTROL_LIMIT": _Q,  # a variable's value contains a banned keyword
        "isv.TEMPLATE_PARAMS_ILLEGAL": _Q,
        "isv.PARAM_LENGTH_LIMIT": _Q,
        "isv.PARAM_NOT_SUPPORT_URL": _Q,
        "isv.INVALID_PARAMETERS": _Q,
        "isv.TEMPLATE_MISSING_PARAMETERS": _Q,
        "isv.INVALID_JSON_PARAM": _Q,
        "isv.SMS_CONTENT_ILLEGAL": _Q,
        "MissingParameter": _Q,
        # Settings an operator must fix: template, signature, credentials, permissions.
        "isv.SMS_TEMPLATE_ILLEGAL": _C,
        "isv.SMS_SIGNATURE_ILLEGAL": _C,
        "isv.SMS_SIGN_ILLEGAL": _C,
        "isv.SMS_SIGNATURE_SCENE_ILLEGAL": _C,
        "isv.EXTEND_CODE_ERROR": _C,
        "isv.DENY_IP_RANGE": _C,
        "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": _C,
        "isp.RAM_PERMISSION_DENY": _C,
        "SignatureDoesNotMatch": _C,
        "IncompleteSignature": _C,
        "InvalidAccessKeySecret": _C,  # the SDK's rewrite of SignatureDoesNotMatch
        "InvalidAccessKeyId.NotFound": _C,
        "InvalidAccessKeyId.Inactive": _C,
        "InvalidTimeStamp.Expired": _C,  # the host clock is off by more than 15 minutes
        "InvalidVersion": _C,
        "InvalidAction.NotFound": _C,
        "Forbidden.RAM": _C,
    }
)

#: Aliyun says which window tripped in the message ("触发分钟级流控Permits:1").
#: 秒级 is the simulator's per-second limit.
_WINDOW_SECONDS: Final = (("秒级", 1.0), ("分钟级", 60.0), ("小时级", 3600.0))
_DEFAULT_DEFER_SECONDS: Final = 60.0


def seconds_until_tomorrow(now: datetime | None = None) -> float:
    """Seconds until the next midnight in China, when daily limits reset."""
    current = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max((midnight - current).total_seconds(), 1.0)


def _retry_after(code: str, message: str, now: datetime | None) -> float:
    if code == "isv.DAY_LIMIT_CONTROL" or "天级" in message:
        return seconds_until_tomorrow(now)
    for marker, seconds in _WINDOW_SECONDS:
        if marker in message:
            return seconds
    return _DEFAULT_DEFER_SECONDS


def classify(code: str, message: str, *, http_status: int = 200, now: datetime | None = None) -> SmsFailure:
    """Classify an Aliyun error ``code`` (with its ``message`` and HTTP status)."""
    error_class = ALIYUN_ERROR_CLASSES.get(code)
    if error_class is None:
        if code.startswith(("isp.", "Throttling")) or http_status >= 500:
            error_class = _R
        elif http_status in (401, 403):
            error_class = _C
        else:
            # An unknown isv.* code or 4xx still means "rejected, nothing sent".
            error_class = _Q
    retry_after = _retry_after(code, message, now) if error_class is _D else None
    return SmsFailure(error_class, code, message, retry_after)
