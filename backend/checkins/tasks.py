"""Check-in tasks: take ids, call one function, safe to run twice (every notify() has
its own source, and reminders are unique per campaign day)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .notifications import checkin_announce
from .reminders import checkins_send_due_reminders


@shared_task(acks_late=True)
def checkins_announce(checkin_id: int) -> int:
    """Tell the class's teachers about a new check-in (queued after its commit, so the
    2,000 check-ins of a busy minute never wait on the teachers' event counters)."""
    return checkin_announce(checkin_id=checkin_id)


@shared_task(acks_late=True)
def checkins_remind_due() -> int:
    """Every minute (beat): the daily reminders whose time has come."""
    return checkins_send_due_reminders(timezone.now())
