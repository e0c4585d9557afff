"""Delivery tasks. Each takes ids, loads rows, calls processing, and is safe to run
twice: rows are locked while a batch is processed (other workers skip them) and every
send is keyed, so a redelivered task finds nothing left to send."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import processing
from .models import Delivery, Dispatch, PushAttempt, PushState

TICK_BATCH = 1000


@shared_task(acks_late=True)
def delivery_dispatch(dispatch_id: int, after_id: int = 0) -> int:
    """First delivery of a dispatch, one batch per task. A full batch hands the next one to
    another worker as soon as its own rows are locked, so a dispatch's batches are sent by
    as many workers as there are (one after the other, a second worker sat idle while the
    first waited on FCM)."""
    dispatch = Dispatch.objects.select_related("school").filter(pk=dispatch_id).first()
    if dispatch is None:
        return 0
    with transaction.atomic():
        window = processing.pending_ids(dispatch_id, after_id)
        rows = list(Delivery.objects.select_for_update(skip_locked=True).filter(pk__in=window).order_by("id"))
        # The chain goes on after the window whenever the window was full, even when
        # another worker holds part of it (notify() starts a chain per chunk, so chains
        # overlap): stopping on a short *locked* batch left the rows past the window
        # pending for good (nothing else sends a first delivery).
        if len(window) == processing.BATCH:
            last = window[-1]
            if delivery_dispatch.app.conf.task_always_eager:
                # In-process (the embedded default): the next task would run inside this
                # transaction, so it waits for the commit like every other side effect.
                transaction.on_commit(lambda: delivery_dispatch.delay(dispatch_id, last))
            else:
                # Not on commit: the next task takes only rows after these, whatever becomes
                # of this transaction (rolled back, these rows stay pending and this task is
                # redelivered), so there is nothing to wait for.
                delivery_dispatch.delay(dispatch_id, last)
        if rows:
            processing.process_first(dispatch, rows)
    return len(rows)


@shared_task(acks_late=True)
def delivery_push_retry(attempt_ids: list[int]) -> int:
    attempts = list(
        PushAttempt.objects.select_related("delivery__dispatch").filter(pk__in=attempt_ids, outcome="retry")
    )
    by_dispatch: dict[int, list[PushAttempt]] = {}
    for attempt in attempts:
        by_dispatch.setdefault(attempt.delivery.dispatch_id, []).append(attempt)
    for group in by_dispatch.values():
        dispatch = group[0].delivery.dispatch
        with transaction.atomic():
            sent = processing.push_attempts_send(dispatch, group, step=group[0].step)
            reached = [a.delivery for a in group if a.delivery_id in sent]
            for row in reached:
                row.push_state = PushState.SENT
                if "push" not in row.channels:
                    row.channels = [*row.channels, "push"]
            processing.save_grouped(Delivery, reached, ["push_state", "channels"])
    return len(attempts)


@shared_task(acks_late=True)
def delivery_send_reminder(delivery_ids: list[int], channel: str) -> int:
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=delivery_ids, acknowledged_at__isnull=True)
            .order_by("id")
        )
        processing.remind(rows, channel=channel)
    return len(rows)


@shared_task(acks_late=True)
def delivery_tick() -> dict[str, int]:
    """Every minute (beat): send what quiet hours held, escalate what is still unread."""
    now = timezone.now()
    released = escalated = 0
    with transaction.atomic():
        held = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(held_until__lte=now)
            .order_by("id")[:TICK_BATCH]
        )
        processing.release_held(held)
        released = len(held)
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(Q(escalate_at__lte=now), acknowledged_at__isnull=True)
            .order_by("id")[:TICK_BATCH]
        )
        processing.escalate(due, now=now)
        escalated = len(due)
    return {"released": released, "escalated": escalated}


@shared_task(acks_late=True)
def delivery_send_digests() -> int:
    """Every evening (beat): the daily summary push for digest users."""
    users = 0
    while True:
        with transaction.atomic():
            rows = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(push_state=PushState.DIGEST, acknowledged_at__isnull=True)
                .order_by("recipient_id", "id")[:TICK_BATCH]
            )
            if not rows:
                return users
            users += processing.send_digests(rows)
