"""Final states and their money: delivered → the held segments are charged; failed →
they are refunded; no report within 72 h (unknown) → charged, as the provider bills
what it accepted. A late report after `unknown` still wins (a failure refunds)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from backend.sms.models import Billing, LedgerEntry, MessageState, SmsMessage

from .ledger import Movement, ledger_apply
from .progress import jobs_progress_publish

# States a report or a reconciliation may settle; anything else is final already.
SETTLEABLE = frozenset(
    {MessageState.SUBMITTING, MessageState.SUBMITTED, MessageState.AMBIGUOUS, MessageState.UNKNOWN}
)

_TIMESTAMP: dict[str, str] = {
    MessageState.DELIVERED: "delivered_at",
    MessageState.FAILED: "failed_at",
    MessageState.UNKNOWN: "unknown_at",
    MessageState.SUBMITTED: "submitted_at",
    MessageState.QUEUED: "queued_at",
}


@dataclass(frozen=True)
class Outcome:
    message: SmsMessage
    state: str
    at: datetime
    error_code: str = ""
    error_message: str = ""


def _billing_movement(message: SmsMessage, state: str, ref: str) -> tuple[str, Movement | None]:
    n, account = message.segments, message.account_id
    charge_now = state in (MessageState.DELIVERED, MessageState.UNKNOWN)
    if charge_now and message.billing == Billing.RESERVED:
        return Billing.CHARGED, Movement(account, LedgerEntry.Kind.CHARGE, segments=-n, held=-n, ref=ref)
    if state == MessageState.FAILED and message.billing == Billing.RESERVED:
        return Billing.REFUNDED, Movement(account, LedgerEntry.Kind.REFUND, held=-n, ref=ref)
    if state == MessageState.FAILED and message.billing == Billing.CHARGED:
        return Billing.REFUNDED, Movement(account, LedgerEntry.Kind.REFUND, segments=n, ref=ref)
    return message.billing, None


def settle(outcomes: Sequence[Outcome], *, ref: str) -> int:
    """Apply outcomes to rows the caller locked in this transaction: state, timestamps,
    billing, one ledger movement per (account, kind) and the jobs' progress. Returns how
    many rows changed. Rows with the same outcome change in one UPDATE (a report batch
    is mostly "delivered, at the same second")."""
    if not outcomes:
        return 0
    totals: dict[tuple[int, str, bool], int] = defaultdict(int)
    groups: dict[tuple[str, str, str, str, datetime], list[int]] = defaultdict(list)
    job_ids: set[int] = set()
    with transaction.atomic():
        for outcome in outcomes:
            message = outcome.message
            billing, movement = _billing_movement(message, outcome.state, ref)
            if movement is not None:
                totals[(movement.account_id, movement.kind, movement.segments > 0)] += message.segments
            error = (outcome.error_code[:64], outcome.error_message[:255])
            if not error[0] and outcome.state != MessageState.FAILED:
                error = ("", "") if outcome.state == MessageState.DELIVERED else ("-", "-")
            groups[(outcome.state, billing, *error, outcome.at)].append(message.pk)
            message.state, message.billing = outcome.state, billing
            if message.job_id is not None:
                job_ids.add(message.job_id)
        for (state, billing, code, text, at), ids in groups.items():
            fields: dict[str, Any] = {"state": state, "billing": billing, _TIMESTAMP[state]: at}
            if code != "-":
                fields.update(error_code=code, error_message=text)
            SmsMessage.objects.filter(pk__in=ids).update(**fields)
        movements = []
        for (account_id, kind, credit), n in totals.items():
            if kind == LedgerEntry.Kind.CHARGE:
                movements.append(Movement(account_id, kind, segments=-n, held=-n, ref=ref))
            elif credit:
                movements.append(
                    Movement(account_id, kind, segments=n, ref=ref, memo="送达失败，退还已扣条数")
                )
            else:
                movements.append(Movement(account_id, kind, held=-n, ref=ref))
        ledger_apply(movements)
        jobs_progress_publish(job_ids)
    return len(outcomes)
