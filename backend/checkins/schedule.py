"""When a campaign runs: pure date arithmetic, no database.

Days are calendar days in Asia/Shanghai whatever the server's clock or TIME_ZONE says,
because that is the day a family in Henan lives in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL_WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)
ONE_DAY = timedelta(days=1)

# Error codes of check_day(), in the order they are tested.
DATE_IN_FUTURE = "date_in_future"
OUTSIDE_CAMPAIGN = "outside_campaign"
NOT_A_CAMPAIGN_DAY = "not_a_campaign_day"
MAKEUP_WINDOW_PASSED = "makeup_window_passed"


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware datetime."""
    return moment.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class Schedule:
    """The days a campaign runs: every day in [start, end] whose ISO weekday is listed."""

    start: date
    end: date
    weekdays: frozenset[int]

    def runs_on(self, day: date) -> bool:
        return self.start <= day <= self.end and day.isoweekday() in self.weekdays

    def count_between(self, first: date, last: date) -> int:
        """How many campaign days lie in [first, last] (0 when first > last). O(1)."""
        first, last = max(first, self.start), min(last, self.end)
        if first > last:
            return 0
        weeks, rest = divmod((last - first).days + 1, 7)
        start_weekday = first.isoweekday()
        extra = sum(1 for i in range(rest) if (start_weekday - 1 + i) % 7 + 1 in self.weekdays)
        return weeks * len(self.weekdays) + extra

    def last_day_on_or_before(self, day: date) -> date | None:
        """The latest campaign day not after `day`, or None."""
        candidate = min(day, self.end)
        for _ in range(7):
            if candidate < self.start:
                return None
            if candidate.isoweekday() in self.weekdays:
                return candidate
            candidate -= ONE_DAY
        return None


def check_day(schedule: Schedule, day: date, *, today: date, makeup_days: int) -> str | None:
    """Why a check-in for `day` is refused on `today`, or None when it is allowed.

    A past day may be made up (补卡) within `makeup_days` calendar days: with
    makeup_days=2, Monday's check-in is accepted until Wednesday 23:59:59."""
    if day > today:
        return DATE_IN_FUTURE
    if not schedule.start <= day <= schedule.end:
        return OUTSIDE_CAMPAIGN
    if day.isoweekday() not in schedule.weekdays:
        return NOT_A_CAMPAIGN_DAY
    if (today - day).days > makeup_days:
        return MAKEUP_WINDOW_PASSED
    return None
