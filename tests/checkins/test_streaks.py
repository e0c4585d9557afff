"""Streaks as a pure function, checked against a day-by-day walk (hypothesis), plus the
cases a family would notice."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.checkins.schedule import Schedule, check_day
from backend.checkins.streaks import Streaks, compute_streaks

D = date(2026, 3, 2)  # a Monday


def days(*offsets: int) -> set[date]:
    return {D + timedelta(days=o) for o in offsets}


def walk(schedule: Schedule, dates: set[date], today: date) -> Streaks:
    """The reference: walk every calendar day of the campaign up to today."""
    run = longest = 0
    day = schedule.start
    while day <= min(schedule.end, today):
        if schedule.runs_on(day):
            if day in dates:
                run += 1
                longest = max(longest, run)
            elif day != today:  # today is still open
                run = 0
        day += timedelta(days=1)
    return Streaks(current=run, longest=longest, total=len(dates))


weekday_sets = st.frozensets(st.integers(1, 7), min_size=1)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, set[date], date]:
    start = D + timedelta(days=draw(st.integers(0, 6)))
    length = draw(st.integers(0, 70))
    schedule = Schedule(start=start, end=start + timedelta(days=length), weekdays=draw(weekday_sets))
    today = start + timedelta(days=draw(st.integers(-3, length + 10)))
    # Check-ins are never in the future, but may sit on days the campaign no longer runs
    # (weekdays edited after the fact).
    span = max(0, min((today - start).days, length))
    offsets = draw(st.sets(st.integers(0, span), max_size=span + 1)) if today >= start else set()
    return schedule, {start + timedelta(days=o) for o in offsets}, today


@settings(max_examples=400, deadline=None)
@given(cases())
def test_streaks_match_a_day_by_day_walk(case: tuple[Schedule, set[date], date]) -> None:
    schedule, dates, today = case
    assert compute_streaks(schedule, dates, today) == walk(schedule, dates, today)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_streak_properties(case: tuple[Schedule, set[date], date]) -> None:
    schedule, dates, today = case
    streaks = compute_streaks(schedule, dates, today)
    assert 0 <= streaks.current <= streaks.longest <= streaks.total == len(dates)
    # Filling a missing campaign day (a make-up) never shortens anything.
    missing = [d for d in sorted(dates | {today}) if schedule.runs_on(d) and d not in dates]
    for day in missing[:3]:
        filled = compute_streaks(schedule, dates | {day}, today)
        assert filled.longest >= streaks.longest
        assert filled.current >= streaks.current
        assert filled.total == streaks.total + 1


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 20),
    length=st.integers(0, 60),
    weekdays=weekday_sets,
    first=st.integers(-5, 70),
    last=st.integers(-5, 70),
)
def test_count_between_matches_counting_day_by_day(
    start: int, length: int, weekdays: frozenset[int], first: int, last: int
) -> None:
    schedule = Schedule(
        start=D + timedelta(days=start), end=D + timedelta(days=start + length), weekdays=weekdays
    )
    a, b = D + timedelta(days=first), D + timedelta(days=last)
    naive = sum(1 for i in range((b - a).days + 1) if schedule.runs_on(a + timedelta(days=i)))
    assert schedule.count_between(a, b) == naive


def test_weekend_does_not_break_a_weekday_streak() -> None:
    weekdays_only = Schedule(start=D, end=D + timedelta(days=27), weekdays=frozenset({1, 2, 3, 4, 5}))
    # Mon–Fri of week 1, then Monday of week 2; today is that Monday.
    result = compute_streaks(weekdays_only, days(0, 1, 2, 3, 4, 7), today=D + timedelta(days=7))
    assert result == Streaks(current=6, longest=6, total=6)


def test_today_open_keeps_the_streak_and_yesterday_missing_breaks_it() -> None:
    daily = Schedule(start=D, end=D + timedelta(days=27), weekdays=frozenset(range(1, 8)))
    assert compute_streaks(daily, days(0, 1, 2), today=D + timedelta(days=3)).current == 3
    assert compute_streaks(daily, days(0, 1, 2), today=D + timedelta(days=4)).current == 0


def test_a_makeup_joins_two_runs() -> None:
    daily = Schedule(start=D, end=D + timedelta(days=27), weekdays=frozenset(range(1, 8)))
    before = compute_streaks(daily, days(0, 1, 3, 4), today=D + timedelta(days=4))
    after = compute_streaks(daily, days(0, 1, 2, 3, 4), today=D + timedelta(days=4))
    assert before == Streaks(current=2, longest=2, total=4)
    assert after == Streaks(current=5, longest=5, total=5)


def test_after_the_campaign_ended_the_last_run_stays_current() -> None:
    week = Schedule(start=D, end=D + timedelta(days=6), weekdays=frozenset(range(1, 8)))
    assert compute_streaks(week, days(4, 5, 6), today=D + timedelta(days=30)) == Streaks(3, 3, 3)


def test_check_day_codes() -> None:
    mwf = Schedule(start=D, end=D + timedelta(days=13), weekdays=frozenset({1, 3, 5}))
    wednesday = D + timedelta(days=2)
    assert check_day(mwf, wednesday, today=wednesday, makeup_days=0) is None
    assert check_day(mwf, wednesday + timedelta(days=1), today=wednesday, makeup_days=0) == "date_in_future"
    assert check_day(mwf, D - timedelta(days=2), today=wednesday, makeup_days=7) == "outside_campaign"
    assert check_day(mwf, D + timedelta(days=1), today=wednesday, makeup_days=7) == "not_a_campaign_day"
    assert check_day(mwf, D, today=wednesday, makeup_days=1) == "makeup_window_passed"
    assert check_day(mwf, D, today=wednesday, makeup_days=2) is None
    after_end = D + timedelta(days=20)
    assert check_day(mwf, after_end, today=after_end, makeup_days=7) == "outside_campaign"
