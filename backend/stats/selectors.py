"""Reads of the stats app: totals from the stored weekly rows (never recomputed at
request time), a teacher's evidence, and household reach per class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from backend.accounts.selectors import app_devices_by_user
from backend.schools.models import ClassMembership, Org, SchoolClass
from backend.schools.selectors import (
    orgs_administered,
    schools_administered,
    taught_classes,
)

from .models import ScoreEvidence, ScoreRow, TeacherWeekScore

ROWS: list[str] = [r.value for r in ScoreRow]


@dataclass
class TotalsRow:
    id: int
    name: str
    total: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROWS, 0))


def orgs_for_stats(*, user: Any) -> QuerySet[Org]:
    """Orgs whose figures the user may see: their administered subtrees."""
    return orgs_administered(user=user)


def subtree_school_totals(*, org: Org, weeks: Iterable[date]) -> list[TotalsRow]:
    """Per school under `org`: points by row over `weeks`. Two queries, whatever the size
    of the subtree: the schools, and one GROUP BY over the stored rows on the path prefix."""
    schools = {
        s.pk: TotalsRow(s.pk, s.name)
        for s in Org.objects.filter(path__startswith=org.path, kind=Org.Kind.SCHOOL).order_by("name", "id")
    }
    sums = (
        TeacherWeekScore.objects.filter(week__in=list(weeks), school__path__startswith=org.path)
        .values("school_id", "row")
        .annotate(points=Sum("points"))
        .values_list("school_id", "row", "points")
    )
    for school_id, row, points in sums:
        target = schools.get(school_id)
        if target is not None:
            target.rows[row] += points
            target.total += points
    return list(schools.values())


def school_teacher_totals(*, school: Org, weeks: Iterable[date]) -> list[TotalsRow]:
    """Per teacher of `school`: points by row over `weeks` (teachers with none show 0)."""
    teachers = {
        user_id: TotalsRow(user_id, name)
        for user_id, name in ClassMembership.objects.filter(
            school_class__school=school, role=ClassMembership.Role.TEACHER
        )
        .values_list("user_id", "user__name")
        .order_by("user__name", "user_id")
        .distinct()
    }
    for teacher_id, name, row, points in (
        TeacherWeekScore.objects.filter(week__in=list(weeks), school=school)
        .values("teacher_id", "teacher__name", "row")
        .annotate(points=Sum("points"))
        .values_list("teacher_id", "teacher__name", "row", "points")
    ):
        target = teachers.setdefault(teacher_id, TotalsRow(teacher_id, name))
        target.rows[row] += points
        target.total += points
    return list(teachers.values())


def teachers_visible_for_stats(*, user: Any) -> QuerySet[Any]:
    """Teachers of the schools the user administers, and the user themself."""
    from backend.accounts.models import User

    schools = schools_administered(user=user)
    return User.objects.filter(
        Q(
            class_memberships__role=ClassMembership.Role.TEACHER,
            class_memberships__school_class__school__in=schools,
        )
        | Q(pk=user.pk)
    ).distinct()


def teacher_week_detail(*, teacher: Any, week: date) -> list[dict[str, Any]]:
    """Each row the teacher scored that week with the evidence behind every point."""
    scores: dict[int, dict[str, Any]] = {
        s.pk: {"row": s.row, "label": s.get_row_display(), "points": s.points, "items": []}
        for s in TeacherWeekScore.objects.filter(teacher=teacher, week=week)
    }
    for e in ScoreEvidence.objects.filter(score_id__in=scores).order_by("score_id", "day", "id"):
        scores[e.score_id]["items"].append(
            {
                "source_type": e.source_type,
                "source_id": e.source_id,
                "label": e.label,
                "date": e.day,
                "points": e.points,
                "capped": e.capped,
                "figures": e.figures,
            }
        )
    return sorted(scores.values(), key=lambda r: ROWS.index(r["row"]))


def weekly_school_trend(*, org: Org, weeks: list[date]) -> dict[int, dict[date, int]]:
    """Per school: total points per week (for the trend charts). One query."""
    trend: dict[int, dict[date, int]] = defaultdict(dict)
    for school_id, week, points in (
        TeacherWeekScore.objects.filter(week__in=weeks, school__path__startswith=org.path)
        .values("school_id", "week")
        .annotate(points=Sum("points"))
        .values_list("school_id", "week", "points")
    ):
        trend[school_id][week] = points
    return trend


def classes_for_reach(*, user: Any) -> QuerySet[SchoolClass]:
    """Classes whose household reach the user may see: taught or administered."""
    from backend.schools.selectors import classes_administered

    return (taught_classes(user=user) | classes_administered(user=user)).distinct()


@dataclass
class ClassReach:
    class_id: int
    class_name: str
    school_name: str
    families: int
    with_app: int
    notices: int
    receipts: int
    read: int
    unreached: list[dict[str, Any]]

    @property
    def read_rate(self) -> float:
        return round(self.read / self.receipts, 4) if self.receipts else 0.0


def class_reach(*, classes: Iterable[SchoolClass], start: datetime, end: datetime) -> list[ClassReach]:
    """Per class: families (guardians of its students), how many have the app, the read
    rate of notices they received in [start, end), and the families nobody reaches: no
    app and no working text (no number, unsubscribed, failing or stale number)."""
    from backend.sms.selectors import sms_reach_by_user

    from .sources import notice_participation

    class_list = list(classes)
    by_class: dict[int, list[tuple[int, str, str, str | None]]] = defaultdict(list)
    links = list(
        ClassMembership.objects.filter(
            school_class__in=class_list,
            role=ClassMembership.Role.STUDENT,
            user__guardian_links__isnull=False,
        ).values_list(
            "school_class_id",
            "user__guardian_links__guardian_id",
            "user__name",
            "user__guardian_links__relation",
            "user__guardian_links__guardian__phone",
        )
    )
    guardian_ids = {row[1] for row in links}
    for class_id, guardian_id, student_name, relation, phone in links:
        by_class[class_id].append((guardian_id, student_name, relation, phone))
    devices = app_devices_by_user(user_ids=guardian_ids)
    sms_trouble = sms_reach_by_user(user_ids=guardian_ids)
    participation = notice_participation(user_ids=list(guardian_ids), start=start, end=end)
    notice_counts = _notices_per_class(class_list, start, end)
    out = []
    for c in class_list:
        families = by_class.get(c.pk, [])
        seen: set[int] = set()
        with_app = receipts = read = 0
        unreached = []
        for guardian_id, student_name, relation, phone in families:
            if guardian_id in seen:
                continue
            seen.add(guardian_id)
            # Same test as the delivery pipeline: a registered device and an app login.
            has_app = bool(devices.get(guardian_id))
            with_app += has_app
            total, done = participation.get(guardian_id, (0, 0))
            receipts += total
            read += done
            if has_app:
                continue
            reason = "no_phone" if not phone else sms_trouble.get(guardian_id)
            if reason:
                unreached.append(
                    {
                        "guardian_id": guardian_id,
                        "display_name": _display(student_name, relation),
                        "reason": reason,
                    }
                )
        unreached.sort(key=lambda u: (u["display_name"], u["guardian_id"]))
        out.append(
            ClassReach(
                c.pk,
                c.name,
                c.school.name,
                len(seen),
                with_app,
                notice_counts.get(c.pk, 0),
                receipts,
                read,
                unreached,
            )
        )
    return out


def _display(student_name: str, relation: str) -> str:
    from backend.schools.selectors import guardian_display_name

    return guardian_display_name(student_name=student_name, relation=relation)


def _notices_per_class(classes: list[SchoolClass], start: datetime, end: datetime) -> dict[int, int]:
    from .sources import notices_sent_to_classes

    return notices_sent_to_classes(class_ids=[c.pk for c in classes], start=start, end=end)


def teacher_count_by_school(*, org: Org) -> dict[int, int]:
    return dict(
        ClassMembership.objects.filter(
            role=ClassMembership.Role.TEACHER, school_class__school__path__startswith=org.path
        )
        .values("school_class__school_id")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("school_class__school_id", "n")
    )
