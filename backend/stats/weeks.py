"""Weeks run Monday–Sunday in Asia/Shanghai, whatever the server's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime | None) -> date:
    if moment is None:
        raise ValueError("a moment is required")
    return moment.astimezone(SHANGHAI).date()


def week_of(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


def current_week(now: datetime | None = None) -> date:
    return week_of(local_date(now or timezone.now()))


def week_bounds(week: date) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) in Asia/Shanghai, as aware datetimes."""
    start = datetime.combine(week, time.min, tzinfo=SHANGHAI)
    return start, start + timedelta(days=7)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def parse_quarter(text: str) -> tuple[date, date] | None:
    """'2026Q4' → (2026-10-01, 2027-01-01); None when malformed."""
    text = text.strip().upper()
    if len(text) != 6 or text[4] != "Q" or not text[:4].isdigit() or text[5] not in "1234":
        return None
    year, q = int(text[:4]), int(text[5])
    start = date(year, 3 * (q - 1) + 1, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, end


def weeks_between(start: date, end: date) -> list[date]:
    """Mondays of the weeks whose Monday lies in [start, end)."""
    monday = week_of(start)
    if monday < start:
        monday += timedelta(days=7)
    weeks = []
    while monday < end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks
