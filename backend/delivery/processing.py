"""Carrying out deliveries: push and SMS for a batch of `Delivery` rows.

Called from Celery tasks only. Every step is safe to run twice: a push is keyed by
(delivery, device token, step) in `PushAttempt`, an SMS by (source, step, recipient) in
backend.sms; rows already past a state are skipped. Queries are per batch, not per row."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from backend.accounts.selectors import app_devices_by_user
from backend.accounts.services import devices_forget
from backend.realtime.selectors import presence_online_user_ids
from backend.sms.services import sms_send_for_users

from .models import Delivery, DeliveryPreference, Dispatch, Mute, PushAttempt, PushState, SmsState, Urgency
from .push import push_backend
from .push.base import PushMessage, PushOutcome
from .push.retry import MAX_ATTEMPTS, backoff_delay
from .rules import DEFAULT_QUIET, Plan, Recipient, Timing, plan_channels, quiet_until

logger = logging.getLogger(__name__)

BATCH = 1000
# Steps key idempotent sends: 0 first delivery, 1–2 escalation, 10+n the n-th reminder.
STEP_FIRST, STEP_ESCALATE_PUSH, STEP_ESCALATE_SMS, STEP_REMINDER = 0, 1, 2, 10


@dataclass
class Work:
    """What to send now for a batch, decided before any I/O."""

    push: dict[int, Delivery]  # recipient id → row
    sms: dict[int, Delivery]


DELIVERY_FIELDS = [
    "channels",
    "push_state",
    "sms_state",
    "sms_note",
    "held_until",
    "escalation_step",
    "escalate_at",
    "reminders",
]


def save_grouped(model: type[Model], rows: Iterable[Model], fields: Sequence[str]) -> None:
    """Save `fields` of many rows with one UPDATE per distinct set of values.

    Rows of a batch nearly always end up in a handful of states, so this is a few
    statements, where bulk_update() builds a CASE expression per row and field (measured:
    most of a 5,000-recipient fan-out's time)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key = tuple(_hashable(getattr(row, f)) for f in fields)
        groups.setdefault(key, []).append(row.pk)
    for key, ids in groups.items():
        values = {f: (list(v) if isinstance(v, tuple) else v) for f, v in zip(fields, key, strict=True)}
        for start in range(0, len(ids), 900):
            model._default_manager.filter(pk__in=ids[start : start + 900]).update(**values)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def quiet_end(dispatch: Dispatch, now: datetime) -> datetime | None:
    if dispatch.urgency == Urgency.URGENT:
        return None
    school = dispatch.school
    start, end = (school.quiet_hours_start, school.quiet_hours_end) if school else DEFAULT_QUIET
    return quiet_until(now, start, end)


def _add_channel(row: Delivery, channel: str) -> None:
    if channel not in row.channels:
        row.channels = [*row.channels, channel]


def _recipients(dispatch: Dispatch, user_ids: list[int]) -> tuple[dict[int, Recipient], dict[int, list[str]]]:
    devices = app_devices_by_user(user_ids=user_ids)
    online = presence_online_user_ids(user_ids)
    prefs = {p.user_id: p for p in DeliveryPreference.objects.filter(user_id__in=user_ids)}
    muted: set[int] = set()
    if dispatch.topic:
        muted = set(
            Mute.objects.filter(user_id__in=user_ids, topic=dispatch.topic)
            .filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))
            .values_list("user_id", flat=True)
        )
    recipients = {}
    for uid in user_ids:
        pref = prefs.get(uid)
        recipients[uid] = Recipient(
            online=uid in online,
            has_app=uid in devices,
            prefers_sms=bool(pref and pref.prefer_sms),
            sms_enabled=pref.sms_enabled if pref else True,
            digest=bool(pref and pref.digest == DeliveryPreference.Digest.DAILY),
            muted=uid in muted,
        )
    return recipients, devices


def plan_first(
    dispatch: Dispatch, rows: Sequence[Delivery], now: datetime
) -> tuple[Work, dict[int, list[str]]]:
    """Decide push/SMS for rows still pending (first delivery or released from quiet hours)."""
    recipients, devices = _recipients(dispatch, [r.recipient_id for r in rows])
    hold = quiet_end(dispatch, now)
    urgent = dispatch.urgency == Urgency.URGENT
    work = Work(push={}, sms={})
    for row in rows:
        plan: Plan = plan_channels(
            recipients[row.recipient_id],
            urgent=urgent,
            quiet=hold is not None,
            sms_offered=bool(dispatch.sms_template),
        )
        row.held_until = None
        if row.push_state == PushState.PENDING:
            if plan.push == Timing.NOW:
                work.push[row.recipient_id] = row
            elif plan.push == Timing.HELD:
                row.push_state, row.held_until = PushState.HELD, hold
            elif plan.push == Timing.DIGEST:
                row.push_state = PushState.DIGEST
            else:
                row.push_state = PushState.NONE
        if row.sms_state == SmsState.PENDING:
            if plan.sms == Timing.NOW:
                work.sms[row.recipient_id] = row
            elif plan.sms == Timing.HELD:
                row.sms_state, row.held_until = SmsState.HELD, hold
            else:
                row.sms_state = SmsState.NONE
    return work, devices


def execute(
    dispatch: Dispatch, rows: Sequence[Delivery], work: Work, devices: dict[int, list[str]], *, step: int
) -> None:
    """Send what `work` says, record outcomes on the rows, save the rows."""
    if work.push:
        _send_push(dispatch, work.push, devices, step=step)
    if work.sms:
        _send_sms(dispatch, work.sms, step=step)
    save_grouped(Delivery, rows, DELIVERY_FIELDS)


def _push_messages(dispatch: Dispatch, tokens: Sequence[str], *, step: int) -> list[PushMessage]:
    """The dispatch's push to each token: what is common (data, title, collapse key) is
    worked out once, and the messages share one data mapping (nothing mutates it)."""
    data = {str(k): str(v) for k, v in dispatch.push_data.items()}
    data.setdefault("event", dispatch.event_type)
    data.setdefault("source", f"{dispatch.source_type}:{dispatch.source_id}")
    title = dispatch.push_title if step == STEP_FIRST else f"提醒：{dispatch.push_title}"
    collapse_key = f"{dispatch.source_type}-{dispatch.source_id}"
    urgent = dispatch.urgency == Urgency.URGENT
    return [
        PushMessage(
            token=token,
            title=title,
            body=dispatch.push_body,
            data=data,
            collapse_key=collapse_key,
            urgent=urgent,
        )
        for token in tokens
    ]


def _send_push(
    dispatch: Dispatch, rows: dict[int, Delivery], devices: dict[int, list[str]], *, step: int
) -> None:
    with_devices = {uid: row for uid, row in rows.items() if devices.get(uid)}
    for uid, row in rows.items():
        if uid not in with_devices:
            row.push_state = PushState.FAILED if row.push_state == PushState.PENDING else row.push_state
    if not with_devices:
        return
    PushAttempt.objects.bulk_create(
        [
            PushAttempt(delivery=row, token=token, step=step)
            for uid, row in with_devices.items()
            for token in devices[uid]
        ],
        ignore_conflicts=True,
    )
    attempts = list(
        PushAttempt.objects.filter(
            delivery__in=list(with_devices.values()), step=step, outcome__in=["pending", PushOutcome.RETRY]
        )
    )
    sent_rows = push_attempts_send(dispatch, attempts, step=step)
    for row in with_devices.values():
        if row.pk in sent_rows:
            row.push_state = PushState.SENT
            _add_channel(row, "push")
        elif row.push_state in (PushState.PENDING, PushState.HELD):
            row.push_state = PushState.FAILED


def push_attempts_send(dispatch: Dispatch, attempts: list[PushAttempt], *, step: int) -> set[int]:
    """Send the given attempts; returns delivery ids with at least one device reached.
    Tokens reported gone are forgotten; transient failures are retried later."""
    if not attempts:
        return set()
    results = push_backend().send(_push_messages(dispatch, [a.token for a in attempts], step=step))
    gone: list[str] = []
    retry: list[int] = []
    retry_after = 0.0
    sent: set[int] = set()
    for attempt, result in zip(attempts, results, strict=True):
        attempt.attempts += 1
        attempt.outcome = result.outcome
        if result.outcome == PushOutcome.SENT:
            sent.add(attempt.delivery_id)
        elif result.outcome in (PushOutcome.UNREGISTERED, PushOutcome.INVALID_TOKEN):
            gone.append(attempt.token)
        elif result.outcome == PushOutcome.RETRY and attempt.attempts < MAX_ATTEMPTS:
            retry.append(attempt.pk)
            retry_after = max(retry_after, result.retry_after or 0.0)
    save_grouped(PushAttempt, attempts, ["attempts", "outcome"])
    if gone:
        devices_forget(tokens=gone)
    if retry:
        from .tasks import delivery_push_retry

        retrying = set(retry)
        attempt_no = max(a.attempts for a in attempts if a.pk in retrying)
        delay = backoff_delay(attempt_no - 1, retry_after=retry_after or None)
        transaction.on_commit(lambda: delivery_push_retry.apply_async((retry,), countdown=delay))
    return sent


def _send_sms(dispatch: Dispatch, rows: dict[int, Delivery], *, step: int) -> None:
    params = {uid: {**dispatch.sms_params, **(row.sms_params or {})} for uid, row in rows.items()}
    outcomes = sms_send_for_users(
        school_id=dispatch.school_id,
        sender_id=dispatch.sms_sender_id,
        template=dispatch.sms_template,
        params_by_user=params,
        source=f"{dispatch.source_type}:{dispatch.source_id}:{dispatch.event_type}:{step}",
        urgent=dispatch.urgency == Urgency.URGENT,
    )
    for uid, row in rows.items():
        outcome = outcomes.get(uid, "not_sent")
        if outcome == "queued":
            row.sms_state = SmsState.QUEUED
            _add_channel(row, "sms")
            row.sms_note = ""
        else:
            row.sms_state = SmsState.REFUSED if row.sms_state != SmsState.QUEUED else row.sms_state
            row.sms_note = outcome[:64]


def pending_ids(dispatch_id: int, after_id: int) -> list[int]:
    """Ids of the next batch of rows still waiting for a first delivery (ids only: the
    caller locks and loads them)."""
    return list(
        Delivery.objects.filter(dispatch_id=dispatch_id, id__gt=after_id)
        .filter(Q(push_state=PushState.PENDING) | Q(sms_state=SmsState.PENDING))
        .order_by("id")
        .values_list("id", flat=True)[:BATCH]
    )


def process_first(dispatch: Dispatch, rows: Sequence[Delivery]) -> None:
    work, devices = plan_first(dispatch, rows, timezone.now())
    execute(dispatch, rows, work, devices, step=STEP_FIRST)


def release_held(rows: Iterable[Delivery]) -> None:
    """Quiet hours are over for these rows: plan them again as if new."""
    now = timezone.now()
    for dispatch, batch in _by_dispatch(rows):
        if quiet_end(dispatch, now) is not None:
            # Still quiet for this school (a later window): leave it held.
            continue
        for row in batch:
            if row.push_state == PushState.HELD:
                row.push_state = PushState.PENDING
            if row.sms_state == SmsState.HELD:
                row.sms_state = SmsState.PENDING
        process_first(dispatch, batch)


def _by_dispatch(rows: Iterable[Delivery]) -> list[tuple[Dispatch, list[Delivery]]]:
    groups: dict[int, list[Delivery]] = {}
    for row in rows:
        groups.setdefault(row.dispatch_id, []).append(row)
    dispatches = Dispatch.objects.select_related("school").in_bulk(list(groups))
    return [(dispatches[dispatch_id], batch) for dispatch_id, batch in groups.items()]


def _execute_by_step(
    dispatch: Dispatch,
    batch: list[Delivery],
    steps: dict[int, int],
    wanted: dict[int, tuple[bool, bool]],
    devices: dict[int, list[str]],
) -> None:
    """Send per step (the idempotency key), then save every row of the batch."""
    for step in sorted(set(steps.values())):
        work = Work(push={}, sms={})
        for row in batch:
            if steps.get(row.pk) != step:
                continue
            push, sms = wanted.get(row.pk, (False, False))
            if push:
                work.push[row.recipient_id] = row
            if sms:
                work.sms[row.recipient_id] = row
        if work.push:
            _send_push(dispatch, work.push, devices, step=step)
        if work.sms:
            _send_sms(dispatch, work.sms, step=step)
    save_grouped(Delivery, batch, DELIVERY_FIELDS)


def escalate(rows: Iterable[Delivery], *, now: datetime) -> None:
    """One escalation step for unacknowledged rows: a push first to app users, then an
    SMS (to app users after a second delay; at once to those without the app)."""
    for dispatch, batch in _by_dispatch(rows):
        hold = quiet_end(dispatch, now)
        if hold is not None:
            for row in batch:
                row.escalate_at = hold
            save_grouped(Delivery, batch, ["escalate_at"])
            continue
        _, devices = _recipients(dispatch, [r.recipient_id for r in batch])
        minutes = dispatch.school.escalation_delay_minutes if dispatch.school else 30
        steps: dict[int, int] = {}
        wanted: dict[int, tuple[bool, bool]] = {}
        for row in batch:
            has_app = row.recipient_id in devices
            if row.escalation_step == 0 and has_app:
                row.escalation_step = STEP_ESCALATE_PUSH
                wanted[row.pk] = (True, False)
            else:
                row.escalation_step = STEP_ESCALATE_SMS
                wanted[row.pk] = (False, bool(dispatch.sms_template))
            steps[row.pk] = row.escalation_step
            again = row.escalation_step < STEP_ESCALATE_SMS and bool(dispatch.sms_template)
            row.escalate_at = now + timedelta(minutes=minutes) if again else None
        _execute_by_step(dispatch, batch, steps, wanted, devices)


def remind(rows: Sequence[Delivery], *, channel: str) -> None:
    """A sender's reminder: push and/or SMS now; in quiet hours it waits for the
    morning (non-urgent items)."""
    now = timezone.now()
    for dispatch, batch in _by_dispatch(rows):
        _, devices = _recipients(dispatch, [r.recipient_id for r in batch])
        hold = quiet_end(dispatch, now)
        steps: dict[int, int] = {}
        wanted: dict[int, tuple[bool, bool]] = {}
        for row in batch:
            if hold is not None:
                row.escalate_at = hold  # the tick escalates it in the morning
                continue
            row.reminders += 1
            has_app = row.recipient_id in devices
            push = channel in ("push", "auto") and has_app
            sms = (channel == "sms" or (channel == "auto" and not has_app)) and bool(dispatch.sms_template)
            steps[row.pk] = STEP_REMINDER + row.reminders
            wanted[row.pk] = (push, sms)
        _execute_by_step(dispatch, batch, steps, wanted, devices)


def send_digests(rows: Sequence[Delivery]) -> int:
    """One summary push per user for the items they asked to receive as a daily digest."""
    counts: dict[int, list[Delivery]] = {}
    for row in rows:
        counts.setdefault(row.recipient_id, []).append(row)
    devices = app_devices_by_user(user_ids=list(counts))
    messages = [
        PushMessage(
            token=token,
            title="今日消息汇总",
            body=f"您有 {len(items)} 条新消息，点击查看",
            data={"event": "digest", "count": str(len(items))},
            collapse_key="daily-digest",
        )
        for uid, items in counts.items()
        for token in devices.get(uid, [])
    ]
    results = push_backend().send(messages) if messages else []
    reached = {m.token for m, r in zip(messages, results, strict=True) if r.outcome == PushOutcome.SENT}
    gone = [r.token for r in results if r.outcome in (PushOutcome.UNREGISTERED, PushOutcome.INVALID_TOKEN)]
    if gone:
        devices_forget(tokens=gone)
    for uid, items in counts.items():
        ok = any(token in reached for token in devices.get(uid, []))
        for row in items:
            row.push_state = PushState.SENT if ok else PushState.FAILED
            if ok:
                _add_channel(row, "push")
    save_grouped(Delivery, rows, ["push_state", "channels"])
    return len(counts)
