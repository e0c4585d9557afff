"""Teachers' office hours: when a guardian's direct message may push the teacher.

Outside them the guardian gets one automatic reply per chat per off-hours window and
the teacher's push waits until the next start (Member.push_due_at, released by the
`messaging_release_office_hours` beat task)."""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.delivery.rules import SHANGHAI

from .models import OfficeHours

WEEKDAY_NAMES = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}


def in_office(hours: OfficeHours, now: datetime) -> bool:
    local = now.astimezone(SHANGHAI)
    return local.isoweekday() in hours.weekdays and hours.start <= local.time() < hours.end


def next_start(hours: OfficeHours, now: datetime) -> datetime | None:
    """The next moment office hours begin after `now` (None when no weekday is set)."""
    local = now.astimezone(SHANGHAI)
    for days in range(8):
        day = (local + timedelta(days=days)).date()
        if day.isoweekday() not in hours.weekdays:
            continue
        start = datetime.combine(day, hours.start, tzinfo=SHANGHAI)
        if start > local:
            return start
    return None


def label(hours: OfficeHours) -> str:
    days = sorted(set(hours.weekdays))
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
        day_text = f"{WEEKDAY_NAMES[days[0]]}至{WEEKDAY_NAMES[days[-1]]}"
    else:
        day_text = "、".join(WEEKDAY_NAMES[d] for d in days) or "暂无"
    return f"{day_text} {hours.start:%H:%M}–{hours.end:%H:%M}"


def auto_reply_text(hours: OfficeHours) -> str:
    return f"老师目前不在办公时间（{label(hours)}），会在工作时间回复您。如有紧急情况请联系学校。"
