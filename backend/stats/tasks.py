"""Scoring tasks. Beat runs stats_compute_recent hourly; each run rescores the current
and the previous week (late reads and corrections still count for last week)."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from .services import stats_compute_week, stats_sync_logins_from_tokens
from .weeks import current_week, week_bounds


@shared_task(acks_late=True)
def stats_compute_week_task(week_start: str) -> int:
    """Score one week (ISO date of its Monday). Idempotent."""
    return stats_compute_week(week=date.fromisoformat(week_start))


@shared_task(acks_late=True)
def stats_compute_recent() -> int:
    """Hourly (beat): login days from issued tokens, then the previous and current week."""
    now = timezone.now()
    this_week = current_week(now)
    last_week = this_week - timedelta(days=7)
    stats_sync_logins_from_tokens(since=week_bounds(last_week - timedelta(days=7))[0], until=now)
    return stats_compute_week(week=last_week, now=now) + stats_compute_week(week=this_week, now=now)
