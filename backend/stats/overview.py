"""Quarterly figures per school for the report (read-only, a fixed number of queries
per report whatever the subtree's size)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.apps import apps
from django.db.models import Count, Q, Sum

from backend.checkins.models import Checkin
from backend.homework.models import Feedback
from backend.notices.models import Notice
from backend.schools.models import Org

from .models import TeacherWeekScore
from .weeks import SHANGHAI, day_start


@dataclass
class SchoolQuarter:
    school_id: int
    name: str
    teachers: int = 0
    active_teachers: int = 0
    notices: int = 0
    recipients: int = 0
    read: int = 0
    confirm_recipients: int = 0
    confirmed: int = 0
    checkins: int = 0
    checkin_students: int = 0
    corrected: int = 0
    sms_spent: int = 0
    sms_balance: int = 0

    @property
    def read_rate(self) -> float:
        return round(self.read / self.recipients, 4) if self.recipients else 0.0

    @property
    def confirm_rate(self) -> float:
        return round(self.confirmed / self.confirm_recipients, 4) if self.confirm_recipients else 0.0


def discussions_available() -> bool:
    return apps.is_installed("backend.messaging")


def _in_quiet_hours(moment: datetime | None, start: time, end: time) -> bool:
    if moment is None:
        return False
    local = moment.astimezone(SHANGHAI).time()
    return (local >= start or local < end) if start > end else (start <= local < end)


def school_quarter(*, org: Org, start: date, end: date, weeks: list[date]) -> list[SchoolQuarter]:
    from backend.sms.selectors import sms_usage_by_org

    from .selectors import teacher_count_by_school

    lo, hi = day_start(start), day_start(end)
    schools = {
        s.pk: SchoolQuarter(s.pk, s.name)
        for s in Org.objects.filter(path__startswith=org.path, kind=Org.Kind.SCHOOL).order_by("name", "id")
    }
    for school_id, n in teacher_count_by_school(org=org).items():
        if school_id in schools:
            schools[school_id].teachers = n
    for school_id, n in (
        TeacherWeekScore.objects.filter(week__in=weeks, school__path__startswith=org.path, points__gt=0)
        .values("school_id")
        .annotate(n=Count("teacher_id", distinct=True))
        .values_list("school_id", "n")
    ):
        schools[school_id].active_teachers = n
    for r in (
        Notice.objects.filter(school__path__startswith=org.path, published_at__gte=lo, published_at__lt=hi)
        .exclude(status=Notice.Status.CANCELLED)
        .values("school_id")
        .annotate(
            n=Count("id"),
            recipients=Sum("recipients_count"),
            read=Sum("read_count"),
            confirm_recipients=Sum("recipients_count", filter=Q(require_confirmation=True)),
            confirmed=Sum("confirmed_count", filter=Q(require_confirmation=True)),
        )
    ):
        s = schools[r["school_id"]]
        s.notices, s.recipients, s.read = r["n"], r["recipients"] or 0, r["read"] or 0
        s.confirm_recipients, s.confirmed = r["confirm_recipients"] or 0, r["confirmed"] or 0
    for school_id, n, students in (
        Checkin.objects.filter(school_class__school__path__startswith=org.path, date__gte=start, date__lt=end)
        .values("school_class__school_id")
        .annotate(n=Count("id"), students=Count("student_id", distinct=True))
        .values_list("school_class__school_id", "n", "students")
    ):
        schools[school_id].checkins, schools[school_id].checkin_students = n, students
    for school_id, n in (
        Feedback.objects.filter(
            submission__assignment__school__path__startswith=org.path, created_at__gte=lo, created_at__lt=hi
        )
        .values("submission__assignment__school_id")
        .annotate(n=Count("submission_id", distinct=True))
        .values_list("submission__assignment__school_id", "n")
    ):
        schools[school_id].corrected = n
    for school_id, (spent, balance) in sms_usage_by_org(org_ids=list(schools), start=lo, end=hi).items():
        schools[school_id].sms_spent, schools[school_id].sms_balance = spent, balance
    return list(schools.values())


def teacher_quarter(*, org: Org, start: date, end: date, weeks: list[date]) -> list[dict[str, Any]]:
    """Per teacher: points by row over the quarter, and notices they published in their
    school's quiet hours (after-hours load)."""
    lo, hi = day_start(start), day_start(end)
    teachers: dict[int, dict[str, Any]] = {}
    for teacher_id, name, school_name, row, points in (
        TeacherWeekScore.objects.filter(week__in=weeks, school__path__startswith=org.path)
        .values("teacher_id", "teacher__name", "school__name", "row")
        .annotate(points=Sum("points"))
        .values_list("teacher_id", "teacher__name", "school__name", "row", "points")
    ):
        t = teachers.setdefault(
            teacher_id,
            {
                "id": teacher_id,
                "name": name,
                "school": school_name,
                "rows": defaultdict(int),
                "after_hours": 0,
            },
        )
        t["rows"][row] += points
    for author_id, name, school_name, published, q_start, q_end in Notice.objects.filter(
        school__path__startswith=org.path, published_at__gte=lo, published_at__lt=hi, author_id__isnull=False
    ).values_list(
        "author_id",
        "author_name",
        "school__name",
        "published_at",
        "school__quiet_hours_start",
        "school__quiet_hours_end",
    ):
        if _in_quiet_hours(published, q_start, q_end):
            t = teachers.setdefault(
                author_id,
                {
                    "id": author_id,
                    "name": name,
                    "school": school_name,
                    "rows": defaultdict(int),
                    "after_hours": 0,
                },
            )
            t["after_hours"] += 1
    return sorted(teachers.values(), key=lambda t: (t["school"], t["name"], t["id"]))


def discussions_by_school(*, org: Org, start: date, end: date) -> dict[int, tuple[int, int]]:
    """Per school: (class discussions with a message in [start, end), their messages)."""
    if not discussions_available():
        return {}
    message_model = apps.get_model("messaging", "Message")
    return {
        school_id: (n, messages)
        for school_id, n, messages in message_model.objects.filter(
            conversation__kind="discussion",
            conversation__school__path__startswith=org.path,
            created_at__gte=day_start(start),
            created_at__lt=day_start(end),
            is_system=False,
        )
        .values("conversation__school_id")
        .annotate(n=Count("conversation_id", distinct=True), messages=Count("id"))
        .values_list("conversation__school_id", "n", "messages")
    }


def after_hours_messages(*, org: Org, start: date, end: date) -> dict[int, tuple[int, int]]:
    """Per teacher: (messages they sent, messages others sent to conversations they are a
    teacher in) inside their school's quiet hours. Empty without backend.messaging."""
    if not discussions_available():
        return {}
    message_model = apps.get_model("messaging", "Message")
    member_model = apps.get_model("messaging", "Member")
    rows = [
        r
        for r in message_model.objects.filter(
            conversation__school__path__startswith=org.path,
            created_at__gte=day_start(start),
            created_at__lt=day_start(end),
            is_system=False,
        ).values_list(
            "conversation_id",
            "sender_id",
            "created_at",
            "conversation__school__quiet_hours_start",
            "conversation__school__quiet_hours_end",
        )
        if _in_quiet_hours(r[2], r[3], r[4])
    ]
    teachers_of: dict[int, list[int]] = defaultdict(list)
    for conversation_id, user_id in member_model.objects.filter(
        conversation_id__in={r[0] for r in rows}, role="teacher"
    ).values_list("conversation_id", "user_id"):
        teachers_of[conversation_id].append(user_id)
    sent: dict[int, int] = defaultdict(int)
    received: dict[int, int] = defaultdict(int)
    for conversation_id, sender_id, *_ in rows:
        for teacher_id in teachers_of.get(conversation_id, []):
            if teacher_id == sender_id:
                sent[teacher_id] += 1
            else:
                received[teacher_id] += 1
    return {t: (sent.get(t, 0), received.get(t, 0)) for t in set(sent) | set(received)}
