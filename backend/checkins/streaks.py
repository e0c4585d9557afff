"""Streaks (连续打卡) as a pure function of (schedule, checked-in dates, today).

- A streak counts consecutive campaign days that all have a check-in; days the campaign
  does not run neither break nor extend it.
- A make-up (补卡) is a check-in like any other, so it fills its day and can join two runs.
- Today is still open: a missing check-in today does not break the current streak yet.
- `total` is the number of days checked in (a day checked in before the campaign's
  weekdays were edited still counts toward the total, not toward streaks).

Cost: O(n log n) in the number of check-ins, independent of the campaign's length; the
caller loads the dates with one query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .schedule import ONE_DAY, Schedule


@dataclass(frozen=True)
class Streaks:
    current: int
    longest: int
    total: int


def compute_streaks(schedule: Schedule, dates: Iterable[date], today: date) -> Streaks:
    distinct = set(dates)
    days = sorted(d for d in distinct if d <= today and schedule.runs_on(d))
    longest = run = 0
    previous: date | None = None
    for day in days:
        # Adjacent in the campaign's calendar: no campaign day lies strictly between.
        if previous is not None and schedule.count_between(previous + ONE_DAY, day - ONE_DAY) == 0:
            run += 1
        else:
            run = 1
        longest = max(longest, run)
        previous = day

    # The day the current streak must reach: the last campaign day up to today, or the
    # one before it while today's check-in is still open.
    anchor = schedule.last_day_on_or_before(today)
    if anchor == today and today not in distinct:
        anchor = schedule.last_day_on_or_before(today - ONE_DAY)
    current = run if days and anchor is not None and days[-1] == anchor else 0
    return Streaks(current=current, longest=longest, total=len(distinct))
