"""Check-in tasks: take ids, call one function, safe to run twice (every notify() has
its own source, and reminders are unique per campaign day).

Announcing check-ins (bench/ checkin_burst): a check-in is committed "not yet
announced" (Checkin.announced_at null); after its commit, checkins_announce_soon()
queues one `checkins_announce_class` task for its class unless one is already waiting,
and that task announces every check-in of the class not yet announced. Under the evening
rush a class's check-ins then share one task and one transaction per batch, and a
request costs one Redis SET NX instead of a Celery publish. The database stays the
truth: a check-in whose task was lost (Redis flushed, a worker gone) is announced by
checkins_announce_overdue (every minute, beat) once it is ANNOUNCE_GRACE old."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from .notifications import checkins_announce_class
from .reminders import checkins_send_due_reminders
from .selectors import checkin_class_id, checkins_overdue_class_ids

# A class's batch is queued and has not started: later check-ins of the class ride on it.
# Expires by itself, so a mark whose task was lost blocks queueing for this long at most.
QUEUED_KEY = "checkins:announce-queued:{}"
QUEUED_TTL = 30


def checkins_announce_soon(*, class_id: int) -> None:
    """After a check-in of the class committed: make sure a batch of the class is queued
    that has not started reading yet (the batch clears the mark before it reads, so a
    check-in committed after its read queues the next one)."""
    key = QUEUED_KEY.format(class_id)
    if not cache.add(key, 1, timeout=QUEUED_TTL):
        return
    try:
        checkins_announce_class_task.delay(class_id)
    except BaseException:
        cache.delete(key)  # the next check-in (or the sweeper) tries again
        raise


@shared_task(name="backend.checkins.tasks.checkins_announce_class", acks_late=True)
def checkins_announce_class_task(class_id: int) -> int:
    """Tell the class's teachers about its check-ins not yet announced (see the module
    docstring). Returns how many were announced."""
    cache.delete(QUEUED_KEY.format(class_id))
    return checkins_announce_class(class_id=class_id)


@shared_task(acks_late=True)
def checkins_announce(checkin_id: int) -> int:
    """One check-in's announcement, as queued before batches existed (tasks still in the
    queue after an upgrade): announces its class's pending check-ins."""
    class_id = checkin_class_id(checkin_id=checkin_id)
    return 0 if class_id is None else checkins_announce_class(class_id=class_id)


@shared_task(acks_late=True)
def checkins_announce_overdue() -> int:
    """Every minute (beat): announce the check-ins whose class's batch was lost (see the
    module docstring). Returns how many."""
    return sum(
        checkins_announce_class(class_id=class_id)
        for class_id in checkins_overdue_class_ids(now=timezone.now())
    )


@shared_task(acks_late=True)
def checkins_remind_due() -> int:
    """Every minute (beat): the daily reminders whose time has come."""
    return checkins_send_due_reminders(timezone.now())
