"""The periodic sweep (beat, every minute) and reconciliation of ambiguous texts.

- deferred texts whose retry time came → queued, and submitted again;
- queued texts whose task got lost (or whose quiet hours ended) → submitted again;
- texts stuck in `submitting` (the worker died mid-call) → ambiguous;
- ambiguous texts → asked about with the provider's status query: found → settled or
  submitted; not found after a grace period → queued again (it never went out);
- submitted texts without a report for 72 hours → unknown (and charged)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.sms.models import MessageState, SmsMessage
from backend.sms.providers import outgoing_provider
from sms_gateway.errors import SmsError
from sms_gateway.providers.base import SendStatus, StatusRecord

from .settlement import Outcome, settle
from .submission import PERSONALISED_BATCH, SHARED_BATCH, enqueue, queue_submission, submit_timeout

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 10_000
RECONCILE_LIMIT = 200
RECONCILE_BATCH = 20
# Queued rows younger than this still have their own task on the way.
QUEUED_GRACE = timedelta(seconds=60)


def _setting_seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=int(getattr(settings, name, default)))


def reconcile_grace() -> timedelta:
    return _setting_seconds("SMS_RECONCILE_GRACE_SECONDS", 600)


def unknown_after() -> timedelta:
    return timedelta(hours=int(getattr(settings, "SMS_UNKNOWN_AFTER_HOURS", 72)))


def _requeue(rows: Sequence[tuple[int, int | None]]) -> None:
    """Queue submit tasks for (id, job_id) rows: job texts share parameters (1,000 per
    call), the others are personalised (100 per call)."""
    queue_submission(sorted(pk for pk, job_id in rows if job_id is not None), batch_size=SHARED_BATCH)
    queue_submission(sorted(pk for pk, job_id in rows if job_id is None), batch_size=PERSONALISED_BATCH)


def _reconcile_later(batches: list[list[int]]) -> None:
    for batch in batches:
        enqueue("sms_reconcile", batch)


def sms_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the sweep; returns counts per action."""
    now = now or timezone.now()
    with transaction.atomic():
        # Read lost rows before due retries turn queued, so no row is queued twice here.
        lost = list(
            SmsMessage.objects.filter(state=MessageState.QUEUED)
            .filter(Q(not_before__lte=now) | Q(not_before__isnull=True, queued_at__lte=now - QUEUED_GRACE))
            .order_by("id")
            .values_list("pk", "job_id")[:SWEEP_LIMIT]
        )
        due = list(
            SmsMessage.objects.filter(state=MessageState.DEFERRED, next_attempt_at__lte=now)
            .order_by("id")
            .values_list("pk", "job_id")[:SWEEP_LIMIT]
        )
        SmsMessage.objects.filter(pk__in=[pk for pk, _ in due], state=MessageState.DEFERRED).update(
            state=MessageState.QUEUED, next_attempt_at=None
        )
        _requeue([*lost, *due])
        stuck = SmsMessage.objects.filter(
            state=MessageState.SUBMITTING, submitting_at__lte=now - submit_timeout()
        ).update(state=MessageState.AMBIGUOUS, ambiguous_at=now, error_code="WORKER_LOST")
        ambiguous = list(
            SmsMessage.objects.filter(state=MessageState.AMBIGUOUS)
            .order_by("ambiguous_at", "id")
            .values_list("pk", flat=True)[:RECONCILE_LIMIT]
        )
        batches = [ambiguous[i : i + RECONCILE_BATCH] for i in range(0, len(ambiguous), RECONCILE_BATCH)]
        transaction.on_commit(lambda: _reconcile_later(batches))
        silent = list(
            SmsMessage.objects.select_for_update(skip_locked=True)
            .filter(state=MessageState.SUBMITTED, submitted_at__lte=now - unknown_after())
            .order_by("id")[:SWEEP_LIMIT]
        )
        settle(
            [Outcome(m, MessageState.UNKNOWN, now, "NO_REPORT", "72 小时内未收到状态报告") for m in silent],
            ref="unknown",
        )
    return {
        "retried": len(due),
        "requeued": len(lost),
        "stuck": stuck,
        "reconciling": len(ambiguous),
        "unknown": len(silent),
    }


def _send_dates(message: SmsMessage, now: datetime) -> list[date]:
    started = message.submitting_at or message.ambiguous_at or now
    return sorted({timezone.localtime(started).date(), timezone.localtime(now).date()})


def _lookup(message: SmsMessage, now: datetime) -> list[StatusRecord] | None:
    provider = outgoing_provider()
    records: list[StatusRecord] = []
    try:
        for send_date in _send_dates(message, now):
            records.extend(provider.query_status(message.phone, message.biz_id or None, send_date))
    except SmsError as exc:
        logger.warning("status query for SMS %s failed: %s", message.pk, exc)
        return None
    return [r for r in records if message.out_id and r.out_id == message.out_id]


_FINAL_FIRST = {SendStatus.DELIVERED: 0, SendStatus.FAILED: 1, SendStatus.PENDING: 2}


def sms_reconcile(*, message_ids: Sequence[int], now: datetime | None = None) -> int:
    """Ask the provider about ambiguous texts (one status query per text). Returns how
    many were resolved."""
    now = now or timezone.now()
    resolved = 0
    for message in SmsMessage.objects.filter(pk__in=list(message_ids), state=MessageState.AMBIGUOUS):
        found = _lookup(message, now)
        if found is None:
            continue
        with transaction.atomic():
            locked = (
                SmsMessage.objects.select_for_update()
                .filter(pk=message.pk, state=MessageState.AMBIGUOUS)
                .first()
            )
            if locked is None:
                continue
            if found:
                record = min(found, key=lambda r: _FINAL_FIRST[r.status])
                state = {
                    SendStatus.DELIVERED: MessageState.DELIVERED,
                    SendStatus.FAILED: MessageState.FAILED,
                    SendStatus.PENDING: MessageState.SUBMITTED,
                }[record.status]
                at = record.receive_time or record.send_time or now
                settle(
                    [Outcome(locked, state, at, record.err_code if state == MessageState.FAILED else "")],
                    ref="reconcile",
                )
            elif now - (locked.ambiguous_at or now) >= reconcile_grace():
                # The provider has no trace of it: it never went out, so sending is safe.
                settle([Outcome(locked, MessageState.QUEUED, now)], ref="reconcile")
                _requeue([(locked.pk, locked.job_id)])
            else:
                continue
        resolved += 1
    return resolved
