"""The scoring rules of seed 003 (区平台深度应用评价表), as pure functions over facts.

Each rule takes the qualifying items of one teacher in one week (already filtered by
the row's threshold) in the order they happened, and hands out points up to the cap.
Items past the cap are kept with 0 points so the teacher can see why."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .models import ScoreRow


@dataclass(frozen=True)
class RowRule:
    points_each: int
    cap_per_week: int | None  # how many items may score in one week
    once_a_year: bool = False


RULES: dict[str, RowRule] = {
    ScoreRow.CLASS_SETUP: RowRule(points_each=50, cap_per_week=1, once_a_year=True),
    ScoreRow.CLASS_NOTICE: RowRule(points_each=5, cap_per_week=2),
    ScoreRow.CLASS_ACTIVITY: RowRule(points_each=5, cap_per_week=1),
    ScoreRow.HABIT: RowRule(points_each=1, cap_per_week=5),
    ScoreRow.CORRECTION: RowRule(points_each=5, cap_per_week=2),
    ScoreRow.GUIDED_TEST: RowRule(points_each=5, cap_per_week=2),
    ScoreRow.LOGIN: RowRule(points_each=1, cap_per_week=None),
    ScoreRow.PROFILE: RowRule(points_each=20, cap_per_week=1, once_a_year=True),
}

# Thresholds exactly as the table states them.
CLASS_SETUP_STUDENTS = 25
NOTICE_PARTICIPANTS = 10
ACTIVITY_PARTICIPANTS = 15
ACTIVITY_COMMENTED_WORKS = 5
CORRECTIONS = 10
GUIDED_TEST_STUDENTS = 10
GUIDED_TEST_DAYS = 30
LOGIN_STREAK_DAYS = 7  # "连续超过7天后，每天登录得2分": day 8 of a streak scores 2
LOGIN_POINTS, LOGIN_STREAK_POINTS = 1, 2


@dataclass
class Item:
    """One qualifying thing (a notice, a campaign, an assignment, a login day, …)."""

    source_type: str
    source_id: int | None
    label: str
    day: date
    figures: dict[str, Any] = field(default_factory=dict)
    points: int = 0
    capped: bool = False


def apply_cap(row: str, items: Sequence[Item], *, already_this_year: bool = False) -> list[Item]:
    """Points per item in order until the row's weekly (or yearly) cap is reached."""
    rule = RULES[row]
    ordered = sorted(items, key=lambda i: (i.day, i.source_id or 0))
    cap = rule.cap_per_week
    if rule.once_a_year and already_this_year:
        cap = 0
    for n, item in enumerate(ordered):
        if cap is not None and n >= cap:
            item.points, item.capped = 0, True
        else:
            item.points = rule.points_each
    return ordered


def login_items(days: Iterable[date], *, week: date) -> list[Item]:
    """One item per login day of the week; 2 points from the 8th consecutive day on.

    `days` must include the 7 days before the week so a streak that began earlier counts."""
    logged = set(days)
    items = []
    for offset in range(7):
        day = week + timedelta(days=offset)
        if day not in logged:
            continue
        streak = 1
        while day - timedelta(days=streak) in logged and streak <= LOGIN_STREAK_DAYS:
            streak += 1
        points = LOGIN_STREAK_POINTS if streak > LOGIN_STREAK_DAYS else LOGIN_POINTS
        items.append(Item("login", None, f"{day.isoformat()} 登录", day, {"streak": streak}, points=points))
    return items
