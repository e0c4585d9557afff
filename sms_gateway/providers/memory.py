"""The ``memory`` provider: an in-process outbox with scriptable faults, for tests."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sms_gateway.callbacks import SHANGHAI, DeliveryReport, Reply, report_body
from sms_gateway.errors import ErrorClass, SmsFailure
from sms_gateway.phones import check_phone
from sms_gateway.providers.base import (
    SendRequest,
    SendResult,
    SendStatus,
    SmsProvider,
    StatusRecord,
    failed_results,
    prepare_recipients,
)
from sms_gateway.segments import bracket_signature
from sms_gateway.templates import Template


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One accepted message to one number."""

    phone: str
    sign_name: str
    template_code: str
    params: Mapping[str, str] = field(hash=False)
    text: str
    biz_id: str
    out_id: str | None
    extend_code: str | None
    sent_at: datetime


class MemoryProvider(SmsProvider):
    """Keeps accepted messages in :attr:`outbox`; failures can be scripted per number.

    ``templates`` (code → :class:`Template`) lets the outbox hold the rendered text.
    """

    name = "memory"

    def __init__(self, *, templates: Mapping[str, Template] | None = None) -> None:
        self.templates = dict(templates or {})
        self.outbox: list[OutboxMessage] = []
        self._failures: dict[str, SmsFailure] = {}
        self._ambiguous_next: bool | None = None  # None: off; bool: whether it was really sent
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def fail_number(
        self,
        phone: str,
        error_class: ErrorClass,
        *,
        code: str = "SCRIPTED",
        message: str = "scripted failure",
        retry_after: float | None = None,
    ) -> None:
        """Make every send to ``phone`` (11-digit form) fail with ``error_class``."""
        self._failures[phone] = SmsFailure(error_class, code, message, retry_after)

    def clear_failures(self) -> None:
        """Forget scripted per-number failures."""
        self._failures.clear()

    def ambiguous_once(self, *, actually_sent: bool = True) -> None:
        """Make the next ``send_batch`` report AMBIGUOUS for every number.

        With ``actually_sent`` the messages still land in the outbox (the response was
        lost, not the request), which is what reconciliation by query must detect.
        """
        self._ambiguous_next = actually_sent

    def render(self, template_code: str, sign_name: str, params: Mapping[str, str]) -> str:
        """The text a phone would show, or a readable stand-in for unknown templates."""
        template = self.templates.get(template_code)
        body = template.render(params) if template else f"[{template_code}] {dict(params)}"
        return bracket_signature(sign_name) + body

    def _accepted(self, message: OutboxMessage) -> None:
        """Hook for subclasses, called for each accepted message (under the lock)."""

    def send_batch(self, request: SendRequest) -> list[SendResult]:
        """Accept every valid number except scripted failures; one result per number."""
        recipients, results = prepare_recipients(request)
        with self._lock:
            ambiguous, self._ambiguous_next = self._ambiguous_next, None
            biz_id = f"{next(self._ids):018d}^0"
            now = datetime.now(SHANGHAI)
            for r in recipients:
                failure = self._failures.get(r.phone)
                if failure is not None:
                    results.update(failed_results([r], request, failure))
                    continue
                if ambiguous is not False:
                    message = OutboxMessage(
                        phone=r.phone,
                        sign_name=request.bare_sign_name,
                        template_code=request.template_code,
                        params=dict(r.params),
                        text=self.render(request.template_code, request.sign_name, r.params),
                        biz_id=biz_id,
                        out_id=request.out_id,
                        extend_code=request.extend_code,
                        sent_at=now,
                    )
                    self.outbox.append(message)
                    self._accepted(message)
                if ambiguous is None:
                    results[r.index] = SendResult(request.phones[r.index], r.phone, biz_id)
                else:
                    lost = SmsFailure(ErrorClass.AMBIGUOUS, "SCRIPTED_TIMEOUT", "scripted timeout")
                    results.update(failed_results([r], request, lost))
        return [results[index] for index in range(len(request.phones))]

    def query_status(self, phone: str, biz_id: str | None, send_date: date) -> list[StatusRecord]:
        """Outbox messages to ``phone`` on ``send_date``; all count as delivered."""
        number = check_phone(phone).phone
        with self._lock:
            return [
                StatusRecord(
                    phone=m.phone,
                    status=SendStatus.DELIVERED,
                    err_code="DELIVERED",
                    template_code=m.template_code,
                    content=m.text,
                    send_time=m.sent_at,
                    receive_time=m.sent_at,
                    out_id=m.out_id,
                )
                for m in self.outbox
                if m.phone == number
                and m.sent_at.date() == send_date
                and (biz_id is None or m.biz_id == biz_id)
            ]

    def delivery_reports(self, *, failed: Mapping[str, str] | None = None) -> list[DeliveryReport]:
        """Reports for every outbox message; ``failed`` maps phone → err_code to fail it."""
        failed = failed or {}
        return [
            DeliveryReport(
                phone=m.phone,
                biz_id=m.biz_id,
                success=m.phone not in failed,
                err_code=failed.get(m.phone, "DELIVERED"),
                err_msg="" if m.phone not in failed else "scripted delivery failure",
                sms_size=1,
                send_time=m.sent_at,
                report_time=m.sent_at,
                out_id=m.out_id,
            )
            for m in list(self.outbox)
        ]

    def report_webhook_body(self, *, failed: Mapping[str, str] | None = None) -> bytes:
        """:meth:`delivery_reports` as an SmsReport webhook body, to feed a webhook view."""
        return report_body(self.delivery_reports(failed=failed))

    def make_reply(self, phone: str, content: str, *, dest_code: str = "") -> Reply:
        """A reply from ``phone`` as the provider would report it."""
        return Reply(phone, content, datetime.now(SHANGHAI), "", dest_code, next(self._ids))
