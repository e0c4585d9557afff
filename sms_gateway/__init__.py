"""sms_gateway: a pure-Python SMS adapter library for Jiaxiao Hub (no Django, no backend).

Phone numbers and carriers (:mod:`.phones`), length and billing (:mod:`.segments`),
approved templates (:mod:`.templates`), classified errors (:mod:`.errors`), webhook
bodies (:mod:`.callbacks`), providers (:mod:`.providers`) and a local Dysmsapi
simulator (:mod:`.simulator`).
"""

from sms_gateway.callbacks import CALLBACK_ACK, DeliveryReport, Reply
from sms_gateway.errors import (
    AccountHaltError,
    AmbiguousError,
    CallbackFormatError,
    ConfigurationError,
    DeferredError,
    ErrorClass,
    PermanentNumberError,
    PermanentRequestError,
    RetryableError,
    SmsError,
    SmsFailure,
)
from sms_gateway.phones import (
    Carrier,
    InvalidPhoneNumber,
    PhoneCheck,
    PhoneProblem,
    carrier_of,
    check_phone,
    is_valid_phone,
    normalize_phone,
)
from sms_gateway.providers import get_provider
from sms_gateway.providers.base import (
    SendRequest,
    SendResult,
    SendStatus,
    SmsProvider,
    StatusRecord,
)
from sms_gateway.segments import MessageLengthError, SmsSize, measure
from sms_gateway.templates import Template, TemplateParamsError

__all__ = [
    "CALLBACK_ACK",
    "AccountHaltError",
    "AmbiguousError",
    "CallbackFormatError",
    "Carrier",
    "ConfigurationError",
    "DeferredError",
    "DeliveryReport",
    "ErrorClass",
    "InvalidPhoneNumber",
    "MessageLengthError",
    "PermanentNumberError",
    "PermanentRequestError",
    "PhoneCheck",
    "PhoneProblem",
    "Reply",
    "RetryableError",
    "SendRequest",
    "SendResult",
    "SendStatus",
    "SmsError",
    "SmsFailure",
    "SmsProvider",
    "SmsSize",
    "StatusRecord",
    "Template",
    "TemplateParamsError",
    "carrier_of",
    "check_phone",
    "get_provider",
    "is_valid_phone",
    "measure",
    "normalize_phone",
]
