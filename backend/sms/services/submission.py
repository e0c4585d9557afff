"""Handing queued texts to the provider, exactly once.

A worker first *claims* rows: it locks queued rows it can get (SKIP LOCKED), moves them
to `submitting` with a fresh out_id and commits, so no other worker (or a re-run of the
same task) can claim them again. Only then does it call the provider, and it records
each number's result afterwards. A worker that dies between the call and the record
leaves rows in `submitting`; the sweep turns those into `ambiguous` and reconciles them
with a status query, because resending blindly could text a parent twice."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.sms.models import Billing, LedgerEntry, MessageState, SmsMessage
from backend.sms.providers import outgoing_provider
from sms_gateway.errors import ErrorClass, SmsError, SmsFailure
from sms_gateway.providers.base import SendRequest, SendResult

from .ledger import Movement, ledger_apply
from .progress import jobs_progress_publish

logger = logging.getLogger(__name__)

# Provider-sized batches: SendSms takes ≤1000 numbers with one parameter set,
# SendBatchSms ≤100 with parameters per number.
SHARED_BATCH = 1000
PERSONALISED_BATCH = 100
MAX_ATTEMPTS = 8
_RETRY_CLASSES = frozenset({ErrorClass.DEFERRED, ErrorClass.RETRYABLE})
# What a claim needs to build provider requests (not the stored text).
_CLAIM_FIELDS = (
    "id",
    "account_id",
    "job_id",
    "phone",
    "params",
    "signature",
    "template_code",
    "extension_code",
    "segments",
    "attempts",
)


def enqueue(task: str, *args: Any, eta: datetime | None = None) -> None:
    """Queue backend.sms.tasks.<task> by name (tasks.py imports the services, so the
    services do not import it back)."""
    current_app.tasks[f"backend.sms.tasks.{task}"].apply_async(args, eta=eta)


def queue_submission(message_ids: Sequence[int], *, batch_size: int, eta: datetime | None = None) -> None:
    """After commit, queue submit tasks for `message_ids` in provider-sized batches
    (at `eta` for texts held by quiet hours)."""
    ids = sorted(message_ids)
    if not ids:
        return
    batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]

    def dispatch() -> None:
        for batch in batches:
            enqueue("sms_submit", batch, eta=eta)

    transaction.on_commit(dispatch)


@dataclass
class _Request:
    out_id: str
    rows: list[SmsMessage] = field(default_factory=list)
    phones: set[str] = field(default_factory=set)

    def build(self) -> SendRequest:
        first = self.rows[0]
        shared = all(r.params == first.params for r in self.rows)
        common: dict[str, Any] = {
            "sign_name": first.signature,
            "template_code": first.template_code,
            "phones": tuple(r.phone for r in self.rows),
            "out_id": self.out_id,
            "extend_code": first.extension_code or None,
        }
        if shared:
            return SendRequest(params=dict(first.params), **common)
        return SendRequest(per_number_params=tuple(dict(r.params) for r in self.rows), **common)


def _group(rows: Sequence[SmsMessage], token: str) -> list[_Request]:
    """Rows that can share one provider call; a number appears once per call (the
    provider refuses repeats) and a call stays within the provider's batch size."""
    requests: list[_Request] = []
    open_by_key: dict[tuple[str, str, str], list[_Request]] = defaultdict(list)
    for row in rows:
        key = (row.signature, row.template_code, row.extension_code)
        target = next(
            (r for r in open_by_key[key] if row.phone not in r.phones and len(r.rows) < SHARED_BATCH),
            None,
        )
        if target is None:
            target = _Request(out_id=f"{token}{len(requests):03d}")
            open_by_key[key].append(target)
            requests.append(target)
        target.rows.append(row)
        target.phones.add(row.phone)
    return requests


def _claim(message_ids: Sequence[int], now: datetime) -> list[_Request]:
    with transaction.atomic():
        rows = list(
            SmsMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(message_ids), state=MessageState.QUEUED)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .only(*_CLAIM_FIELDS)
            .order_by("id")
        )
        if not rows:
            return []
        requests = _group(rows, uuid.uuid4().hex[:12])
        for request in requests:
            SmsMessage.objects.filter(pk__in=[r.pk for r in request.rows]).update(
                state=MessageState.SUBMITTING,
                submitting_at=now,
                attempts=F("attempts") + 1,
                out_id=request.out_id,
            )
            for row in request.rows:
                row.out_id, row.attempts = request.out_id, row.attempts + 1
    return requests


def _send(request: _Request) -> list[SendResult]:
    try:
        send_request = request.build()
    except SmsError as exc:
        return [SendResult(r.phone, r.phone, failure=exc.failure) for r in request.rows]
    try:
        return outgoing_provider().send_batch(send_request)
    except SmsError as exc:
        return [SendResult(r.phone, r.phone, failure=exc.failure) for r in request.rows]
    except Exception as exc:
        # Anything unexpected once the call started: it may have gone out, so reconcile.
        logger.exception("SMS provider call crashed; %d texts become ambiguous", len(request.rows))
        failure = SmsFailure(ErrorClass.AMBIGUOUS, "PROVIDER_CRASH", repr(exc)[:200])
        return [SendResult(r.phone, r.phone, failure=failure) for r in request.rows]


def _retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after:
        return timedelta(seconds=max(1.0, retry_after))
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _record(request: _Request, results: Sequence[SendResult]) -> set[int]:
    """Write each number's outcome; returns the ids of the jobs touched."""
    now = timezone.now()
    with transaction.atomic():
        # Only rows still ours: a fast delivery report may already have settled some.
        owned = dict(
            SmsMessage.objects.select_for_update()
            .filter(pk__in=[r.pk for r in request.rows], state=MessageState.SUBMITTING, out_id=request.out_id)
            .order_by("id")
            .values_list("pk", "job_id")
        )
        updates: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        released: dict[int, int] = defaultdict(int)
        for row, result in zip(request.rows, results, strict=True):
            if row.pk not in owned:
                continue
            failure = result.failure
            if failure is None:
                updates[(MessageState.SUBMITTED, result.biz_id or "", "", "", None)].append(row.pk)
                continue
            code, message = failure.code[:64], failure.message[:255]
            if failure.error_class is ErrorClass.AMBIGUOUS:
                updates[(MessageState.AMBIGUOUS, "", code, message, None)].append(row.pk)
            elif failure.error_class in _RETRY_CLASSES and row.attempts < MAX_ATTEMPTS:
                retry_at = now + _retry_delay(row.attempts, failure.retry_after)
                updates[(MessageState.DEFERRED, "", code, message, retry_at)].append(row.pk)
            else:
                updates[(MessageState.FAILED, "", code, message, None)].append(row.pk)
                released[row.account_id] += row.segments
        for (state, biz_id, code, message, retry_at), ids in updates.items():
            SmsMessage.objects.filter(pk__in=ids).update(
                **_fields(state, now, biz_id, code, message, retry_at)
            )
        ledger_apply(
            Movement(account_id, LedgerEntry.Kind.RELEASE, held=-segments, ref=f"submit:{request.out_id}")
            for account_id, segments in released.items()
        )
        job_ids = {job_id for job_id in owned.values() if job_id is not None}
        jobs_progress_publish(job_ids)
    return job_ids


def _fields(
    state: str, now: datetime, biz_id: str, code: str, message: str, retry_at: datetime | None
) -> dict[str, Any]:
    if state == MessageState.SUBMITTED:
        return {"state": state, "biz_id": biz_id, "submitted_at": now, "error_code": "", "error_message": ""}
    fields: dict[str, Any] = {"state": state, "error_code": code, "error_message": message}
    if state == MessageState.AMBIGUOUS:
        fields["ambiguous_at"] = now
    elif state == MessageState.DEFERRED:
        fields.update(deferred_at=now, next_attempt_at=retry_at)
    else:
        fields.update(failed_at=now, billing=Billing.REFUNDED)
    return fields


def sms_submit(*, message_ids: Sequence[int]) -> int:
    """Submit the queued texts among `message_ids` that are due. Safe to run twice and
    concurrently: rows already claimed are skipped. Returns how many were handed over."""
    requests = _claim(message_ids, timezone.now())
    for request in requests:
        _record(request, _send(request))
    return sum(len(r.rows) for r in requests)


def submit_timeout() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "SMS_SUBMITTING_TIMEOUT_SECONDS", 600)))
