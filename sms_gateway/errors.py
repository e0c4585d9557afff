"""Classified SMS errors: one enum, one value type, one exception hierarchy.

Every provider maps its own error codes onto :class:`ErrorClass`; the caller
(``backend.sms``) decides what to do from the class alone, never from a
provider-specific code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class ErrorClass(StrEnum):
    """What the caller should do about a failed send or query."""

    #: Transient provider or network failure before the provider accepted anything: resend.
    RETRYABLE = "retryable"
    #: Rate or quota window hit: resend after ``retry_after`` seconds.
    DEFERRED = "deferred"
    #: The account cannot send (balance, suspended, unknown): stop all sends, alert an admin.
    ACCOUNT_HALT = "account_halt"
    #: This number can never receive this message (invalid, barred): do not resend.
    PERMANENT_NUMBER = "permanent_number"
    #: This request is wrong (params, content, batch size): fix the request, do not resend as is.
    PERMANENT_REQUEST = "permanent_request"
    #: Credentials, template, signature or permissions are wrong: an operator must fix settings.
    CONFIGURATION = "configuration"
    #: Outcome unknown (timeout after the request left): reconcile by query, never resend blindly.
    AMBIGUOUS = "ambiguous"


#: Classes after which sending the remaining chunks of the same batch is pointless: the next
#: request would fail the same way (or, for DEFERRED, only dig the rate-limit hole deeper).
HALTING_CLASSES = frozenset({ErrorClass.ACCOUNT_HALT, ErrorClass.CONFIGURATION, ErrorClass.DEFERRED})


@dataclass(frozen=True, slots=True)
class SmsFailure:
    """A classified failure as a value (carried by results, convertible to an exception)."""

    error_class: ErrorClass
    code: str
    message: str
    retry_after: float | None = None

    def to_exception(self) -> SmsError:
        """Return the exception of the matching subclass, for callers that prefer raising."""
        return _EXCEPTION_BY_CLASS[self.error_class](self.code, self.message, retry_after=self.retry_after)


class SmsError(Exception):
    """Base of all classified SMS errors; ``error_class`` tells the caller what to do."""

    error_class: ClassVar[ErrorClass]

    def __init__(self, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def failure(self) -> SmsFailure:
        """The same error as a :class:`SmsFailure` value."""
        return SmsFailure(self.error_class, self.code, self.message, self.retry_after)


class RetryableError(SmsError):
    """Transient failure; nothing was accepted, so a resend is safe."""

    error_class = ErrorClass.RETRYABLE


class DeferredError(SmsError):
    """Rate limit or daily limit; resend after ``retry_after`` seconds."""

    error_class = ErrorClass.DEFERRED


class AccountHaltError(SmsError):
    """The provider account cannot send (balance, suspension)."""

    error_class = ErrorClass.ACCOUNT_HALT


class PermanentNumberError(SmsError):
    """This phone number cannot receive the message."""

    error_class = ErrorClass.PERMANENT_NUMBER


class PermanentRequestError(SmsError):
    """The request itself is invalid (params, content, size)."""

    error_class = ErrorClass.PERMANENT_REQUEST


class ConfigurationError(SmsError):
    """Credentials, template, signature, endpoint or permission problem."""

    error_class = ErrorClass.CONFIGURATION


class AmbiguousError(SmsError):
    """The request may or may not have been accepted: reconcile with a status query."""

    error_class = ErrorClass.AMBIGUOUS


_EXCEPTION_BY_CLASS: dict[ErrorClass, type[SmsError]] = {
    cls.error_class: cls
    for cls in (
        RetryableError,
        DeferredError,
        AccountHaltError,
        PermanentNumberError,
        PermanentRequestError,
        ConfigurationError,
        AmbiguousError,
    )
}


class CallbackFormatError(ValueError):
    """A delivery-report or reply webhook body cannot be parsed; the message says where."""
