"""The daily reminder of each campaign, run every minute by Celery beat.

A campaign with `remind_at` reminds the students who have not checked in yet that day,
and their guardians, once per campaign day: the `CheckinReminder` row (unique per
campaign and date) is written in the same transaction as the notify() call, so a second
run of the sweep, or two beat workers at once, remind nobody twice."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import CheckinCampaign, CheckinReminder
from .notifications import notify_reminder
from .schedule import SHANGHAI
from .selectors import (
    campaign_class_ids,
    campaign_day_stats,
    campaigns_due_for_reminder,
    guardians_of,
    schedule_of,
)

# A sweep that was down at remind_at still reminds within this many minutes; later the
# day's reminder is skipped rather than sent at a surprising hour.
DEFAULT_GRACE_MINUTES = 120


def checkins_send_due_reminders(now: datetime | None = None) -> int:
    """Remind every campaign whose reminder time has come today. Returns how many
    campaign-days were reminded by this call. Each campaign in its own transaction."""
    now = now or timezone.now()
    local = now.astimezone(SHANGHAI)
    today = local.date()
    grace = timedelta(minutes=int(getattr(settings, "CHECKIN_REMINDER_GRACE_MINUTES", DEFAULT_GRACE_MINUTES)))
    earliest = (local - grace).time() if (local - grace).date() == today else time.min
    reminded = 0
    for campaign in campaigns_due_for_reminder(today=today, earliest=earliest, latest=local.time()):
        if schedule_of(campaign).runs_on(today) and _remind(campaign=campaign, now=now):
            reminded += 1
    return reminded


def _remind(*, campaign: CheckinCampaign, now: datetime) -> bool:
    today = now.astimezone(SHANGHAI).date()
    with transaction.atomic():
        # Concurrent sweeps: the second insert waits on the unique index, then finds the row.
        reminder, created = CheckinReminder.objects.get_or_create(
            campaign=campaign, date=today, defaults={"created_at": now}
        )
        if not created:
            return False
        stats = campaign_day_stats(campaign=campaign, class_ids=campaign_class_ids(campaign), day=today)
        students = [s.id for s in stats.missing]
        guardians = guardians_of(student_ids=students)
        recipients = list(dict.fromkeys([*students, *(g for s in students for g in guardians.get(s, []))]))
        if recipients:
            notify_reminder(campaign=campaign, reminder=reminder, recipients=recipients)
        reminder.students = len(students)
        reminder.recipients = len(recipients)
        reminder.save(update_fields=["students", "recipients"])
    return True
