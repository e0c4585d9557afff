"""Writes of the stats app: login days, and the weekly scoring job (idempotent)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import sources
from .models import DailyActivity, ProfileCompletion, ScoreEvidence, ScoreRow, TeacherWeekScore
from .rules import Item, apply_cap, login_items
from .weeks import local_date, week_bounds


def stats_record_login(*, user: Any, when: datetime | None = None) -> None:
    """Record that `user` logged in (or used the app) on that Shanghai day. Cheap and
    idempotent: call it from every login and token refresh path."""
    day = local_date(when or timezone.now())
    DailyActivity.objects.get_or_create(user_id=user.pk, date=day)


def stats_sync_logins_from_tokens(*, since: datetime, until: datetime) -> int:
    """Derive login days from JWTs issued in [since, until] (login and refresh both issue one), so login
    days are right even where no login path calls stats_record_login."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    seen = {
        (user_id, local_date(created))
        for user_id, created in OutstandingToken.objects.filter(
            created_at__gte=since, created_at__lte=until, user_id__isnull=False
        ).values_list("user_id", "created_at")
    }
    rows = [DailyActivity(user_id=u, date=d) for u, d in seen]
    DailyActivity.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def stats_observe_profiles(*, teacher_ids: list[int], today: date) -> None:
    """Note today as the first day of the year a teacher's profile is seen complete."""
    complete = sources.profile_complete_ids(teacher_ids)
    done = set(
        ProfileCompletion.objects.filter(user_id__in=complete, year=today.year).values_list(
            "user_id", flat=True
        )
    )
    ProfileCompletion.objects.bulk_create(
        [ProfileCompletion(user_id=u, year=today.year, observed_on=today) for u in complete if u not in done],
        ignore_conflicts=True,
    )


def _yearly_already(row: str, week: date, teacher_ids: list[int]) -> set[int]:
    """Teachers who scored a once-a-year row in an earlier week of the same year."""
    return set(
        TeacherWeekScore.objects.filter(
            row=row, teacher_id__in=teacher_ids, points__gt=0, week__lt=week, week__year=week.year
        ).values_list("teacher_id", flat=True)
    )


def _login_items(week: date, teacher_ids: list[int]) -> dict[int, list[Item]]:
    days: dict[int, list[date]] = {}
    for user_id, day in DailyActivity.objects.filter(
        user_id__in=teacher_ids, date__gte=week - timedelta(days=7), date__lt=week + timedelta(days=7)
    ).values_list("user_id", "date"):
        days.setdefault(user_id, []).append(day)
    return {u: login_items(d, week=week) for u, d in days.items()}


def _profile_items(week: date, teacher_ids: list[int]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = {}
    for user_id, observed in ProfileCompletion.objects.filter(
        user_id__in=teacher_ids, observed_on__range=(week, week + timedelta(days=6))
    ).values_list("user_id", "observed_on"):
        out[user_id] = [Item("profile", user_id, "头像、联系方式、学校班级、任教学科已全部完善", observed)]
    return out


@transaction.atomic
def stats_compute_week(*, week: date, now: datetime | None = None) -> int:
    """Score every teacher for the week starting on Monday `week`; replaces that week's
    rows, so running it twice stores the same scores. Answers the number of score rows."""
    if week.weekday() != 0:
        raise ValueError("week must be a Monday")
    now = now or timezone.now()
    schools = sources.teacher_schools()
    teacher_ids = list(schools)
    start, end = week_bounds(week)
    if start <= now < end:
        stats_observe_profiles(teacher_ids=teacher_ids, today=local_date(now))
    activity, habit = sources.activities_and_habits(week)
    facts: dict[str, dict[int, list[Item]]] = {
        ScoreRow.CLASS_SETUP: sources.class_setup(week),
        ScoreRow.CLASS_NOTICE: sources.class_notices(week),
        ScoreRow.CLASS_ACTIVITY: activity,
        ScoreRow.HABIT: habit,
        ScoreRow.CORRECTION: sources.corrections(week),
        ScoreRow.GUIDED_TEST: sources.guided_tests(week),
        ScoreRow.LOGIN: _login_items(week, teacher_ids),
        ScoreRow.PROFILE: _profile_items(week, teacher_ids),
    }
    yearly: dict[str, set[int]] = {
        row: _yearly_already(row, week, teacher_ids) for row in (ScoreRow.CLASS_SETUP, ScoreRow.PROFILE)
    }

    TeacherWeekScore.objects.filter(week=week).delete()
    scores: list[TeacherWeekScore] = []
    evidence: list[tuple[TeacherWeekScore, Item]] = []
    for row, per_teacher in facts.items():
        for teacher_id, items in per_teacher.items():
            if teacher_id not in schools or not items:
                continue
            if row != ScoreRow.LOGIN:
                items = apply_cap(row, items, already_this_year=teacher_id in yearly.get(row, set()))
            score = TeacherWeekScore(
                teacher_id=teacher_id,
                school_id=schools[teacher_id],
                week=week,
                row=row,
                points=sum(i.points for i in items),
                detail={"items": len(items), "capped": sum(1 for i in items if i.capped)},
                computed_at=now,
            )
            scores.append(score)
            evidence.extend((score, i) for i in items)
    TeacherWeekScore.objects.bulk_create(scores)
    ScoreEvidence.objects.bulk_create(
        [
            ScoreEvidence(
                score_id=s.pk,
                source_type=i.source_type,
                source_id=i.source_id,
                label=i.label[:200],
                day=i.day,
                points=i.points,
                capped=i.capped,
                figures=i.figures,
            )
            for s, i in evidence
        ]
    )
    return len(scores)
