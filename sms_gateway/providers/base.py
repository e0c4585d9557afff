"""The provider interface: request, per-number results, status records, webhooks."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sms_gateway.callbacks import DeliveryReport, Reply, parse_reply_body, parse_report_body
from sms_gateway.errors import ErrorClass, PermanentRequestError, SmsFailure
from sms_gateway.phones import check_phone
from sms_gateway.segments import bare_signature

__all__ = [
    "DeliveryReport",
    "Recipient",
    "Reply",
    "SendRequest",
    "SendResult",
    "SendStatus",
    "SmsProvider",
    "StatusRecord",
    "prepare_recipients",
]


@dataclass(frozen=True)
class SendRequest:
    """One template sent to many numbers.

    Give either ``params`` (the same parameters for every number) or
    ``per_number_params`` (one mapping per entry of ``phones``, same order).
    ``sign_name`` may be written with or without 【】. ``out_id`` is echoed back in
    delivery reports; ``extend_code`` is appended to the sender port so that replies
    (上行) can be routed back to the sending account.
    """

    sign_name: str
    template_code: str
    phones: tuple[str, ...]
    params: Mapping[str, str] | None = None
    per_number_params: tuple[Mapping[str, str], ...] | None = None
    out_id: str | None = None
    extend_code: str | None = None

    def __post_init__(self) -> None:
        # Callers often pass lists; store tuples so the request really is immutable.
        object.__setattr__(self, "phones", tuple(self.phones))
        if self.per_number_params is not None:
            object.__setattr__(self, "per_number_params", tuple(self.per_number_params))
        if not self.phones:
            raise PermanentRequestError("EMPTY_REQUEST", "no phone numbers to send to")
        if not bare_signature(self.sign_name):
            raise PermanentRequestError("MISSING_SIGN_NAME", "sign_name is empty")
        if not self.template_code:
            raise PermanentRequestError("MISSING_TEMPLATE", "template_code is empty")
        if (self.params is None) == (self.per_number_params is None):
            raise PermanentRequestError(
                "PARAMS_AMBIGUOUS", "give exactly one of params and per_number_params"
            )
        if self.per_number_params is not None and len(self.per_number_params) != len(self.phones):
            raise PermanentRequestError(
                "PARAMS_MISMATCH",
                f"{len(self.phones)} phones but {len(self.per_number_params)} param sets",
            )

    @classmethod
    def personalised(
        cls,
        sign_name: str,
        template_code: str,
        params_by_phone: Mapping[str, Mapping[str, str]],
        *,
        out_id: str | None = None,
        extend_code: str | None = None,
    ) -> SendRequest:
        """Build a request with different parameters per number."""
        return cls(
            sign_name=sign_name,
            template_code=template_code,
            phones=tuple(params_by_phone),
            per_number_params=tuple(params_by_phone.values()),
            out_id=out_id,
            extend_code=extend_code,
        )

    @property
    def bare_sign_name(self) -> str:
        """The signature without 【】."""
        return bare_signature(self.sign_name)

    def params_for(self, index: int) -> Mapping[str, str]:
        """Parameters of the ``index``-th phone."""
        if self.per_number_params is not None:
            return self.per_number_params[index]
        assert self.params is not None
        return self.params


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome for one number of a request: accepted with a provider id, or a failure.

    ``phone`` is the number as the caller gave it; ``normalized_phone`` its 11-digit form
    (None when invalid). ``biz_id`` is shared by all numbers sent in one provider call;
    query status with (phone, biz_id, send date).
    """

    phone: str
    normalized_phone: str | None
    biz_id: str | None = None
    request_id: str | None = None
    failure: SmsFailure | None = None

    @property
    def accepted(self) -> bool:
        """True when the provider accepted this number for delivery."""
        return self.failure is None

    @property
    def error_class(self) -> ErrorClass | None:
        """Class of the failure, None when accepted."""
        return None if self.failure is None else self.failure.error_class


class SendStatus(StrEnum):
    """Delivery state as reported by a status query."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One message to one number, as the provider's status query reports it."""

    phone: str
    status: SendStatus
    err_code: str
    template_code: str
    content: str
    send_time: datetime | None
    receive_time: datetime | None
    out_id: str | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """A validated, de-duplicated number at position ``index`` of the request."""

    index: int
    phone: str
    params: Mapping[str, str] = field(hash=False)


def prepare_recipients(
    request: SendRequest,
) -> tuple[list[Recipient], dict[int, SendResult]]:
    """Normalise and de-duplicate the request's numbers.

    Returns the recipients to send to and, keyed by request position, the results of
    numbers refused locally (invalid, or repeating an earlier number: a parent must not
    get the same text twice because a roster listed them twice).
    """
    recipients: list[Recipient] = []
    refused: dict[int, SendResult] = {}
    seen: set[str] = set()
    for index, raw in enumerate(request.phones):
        checked = check_phone(raw)
        if checked.phone is None:
            assert checked.problem is not None
            failure = SmsFailure(
                ErrorClass.PERMANENT_NUMBER,
                "INVALID_NUMBER",
                f"{raw!r} is not a mainland mobile number ({checked.problem})",
            )
            refused[index] = SendResult(raw, None, failure=failure)
        elif checked.phone in seen:
            failure = SmsFailure(
                ErrorClass.PERMANENT_NUMBER,
                "DUPLICATE_NUMBER",
                f"{checked.phone} appears more than once in the request",
            )
            refused[index] = SendResult(raw, checked.phone, failure=failure)
        else:
            seen.add(checked.phone)
            recipients.append(Recipient(index, checked.phone, request.params_for(index)))
    return recipients, refused


class SmsProvider(abc.ABC):
    """What ``backend.sms`` needs from an SMS provider.

    ``send_batch`` never raises for provider-side failures: every number gets a
    :class:`SendResult`, in request order. ``query_status`` raises
    :class:`~sms_gateway.errors.SmsError` subclasses. The webhook parsers default to the
    Aliyun SmsReport / SmsUp JSON formats (also produced by the simulator).
    """

    name: str = "abstract"

    @abc.abstractmethod
    def send_batch(self, request: SendRequest) -> list[SendResult]:
        """Send ``request``; one result per entry of ``request.phones``, same order."""

    @abc.abstractmethod
    def query_status(self, phone: str, biz_id: str | None, send_date: date) -> list[StatusRecord]:
        """Status of messages sent to ``phone`` on ``send_date`` (optionally one ``biz_id``).

        ``send_date`` is the calendar date in China (Asia/Shanghai), as Aliyun keys it.
        """

    def parse_reports(self, body: bytes | str) -> list[DeliveryReport]:
        """Parse a delivery-report webhook body; raises CallbackFormatError."""
        return parse_report_body(body)

    def parse_replies(self, body: bytes | str) -> list[Reply]:
        """Parse a reply (MO) webhook body; raises CallbackFormatError."""
        return parse_reply_body(body)


def failed_results(
    recipients: Sequence[Recipient], request: SendRequest, failure: SmsFailure
) -> dict[int, SendResult]:
    """The same failure for every recipient, keyed by request position."""
    return {r.index: SendResult(request.phones[r.index], r.phone, failure=failure) for r in recipients}
