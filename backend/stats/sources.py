"""Facts the scoring job reads from the feature apps, teacher by teacher, for one week.

Stats is a read-only reporting app over other apps' rows; the existing selectors are
scoped per caller, not bulk-per-week, so the bulk reads live here, in one module, and
never write. Each function answers {teacher_id: [Item, ...]} with the row's threshold
already applied (caps are applied by rules.apply_cap)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Count, Exists, Min, OuterRef, Q

from backend.accounts.models import User
from backend.checkins.models import Checkin, CheckinCampaign, CheckinComment, CheckinLike
from backend.homework.models import Assignment, Feedback, Submission
from backend.notices.models import Notice, NoticeReceipt
from backend.schools.models import ClassMembership, SchoolClass

from . import rules
from .rules import Item
from .weeks import local_date, week_bounds

Items = dict[int, list[Item]]


def teacher_schools() -> dict[int, int]:
    """Every teacher and the school they are scored under (their lowest-id school)."""
    mapping: dict[int, int] = {}
    rows = (
        ClassMembership.objects.filter(role=ClassMembership.Role.TEACHER)
        .values_list("user_id", "school_class__school_id")
        .order_by("user_id", "school_class__school_id")
    )
    for user_id, school_id in rows:
        mapping.setdefault(user_id, school_id)
    return mapping


def class_setup(week: date) -> Items:
    """A class whose 25th student joined this week: the head teacher's 班级组建."""
    start, end = week_bounds(week)
    out: Items = defaultdict(list)
    candidates = (
        SchoolClass.objects.annotate(
            n=Count("memberships", filter=Q(memberships__role=ClassMembership.Role.STUDENT))
        )
        .filter(n__gte=rules.CLASS_SETUP_STUDENTS)
        .values_list("id", "name")
    )
    names = dict(candidates)
    if not names:
        return out
    joined: dict[int, list[Any]] = defaultdict(list)
    for class_id, joined_at in (
        ClassMembership.objects.filter(school_class_id__in=names, role=ClassMembership.Role.STUDENT)
        .order_by("school_class_id", "joined_at", "id")
        .values_list("school_class_id", "joined_at")
    ):
        joined[class_id].append(joined_at)
    heads = dict(
        ClassMembership.objects.filter(school_class_id__in=names, is_head_teacher=True).values_list(
            "school_class_id", "user_id"
        )
    )
    for class_id, times in joined.items():
        reached = times[rules.CLASS_SETUP_STUDENTS - 1]
        if start <= reached < end and class_id in heads:
            out[heads[class_id]].append(
                Item(
                    "class",
                    class_id,
                    f"{names[class_id]} 班级人数达到{rules.CLASS_SETUP_STUDENTS}人",
                    local_date(reached),
                    {"students": len(times)},
                )
            )
    return out


def class_notices(week: date) -> Items:
    """Published notices of the week read or confirmed by ≥10 student/guardian accounts."""
    start, end = week_bounds(week)
    out: Items = defaultdict(list)
    notices = (
        Notice.objects.filter(published_at__gte=start, published_at__lt=end, status=Notice.Status.PUBLISHED)
        .annotate(participants=Count("receipts", filter=Q(receipts__read_at__isnull=False)))
        .filter(participants__gte=rules.NOTICE_PARTICIPANTS)
        .values_list("id", "author_id", "title", "published_at", "participants")
    )
    for notice_id, author_id, title, published_at, participants in notices:
        out[author_id].append(
            Item(
                "notice",
                notice_id,
                f"通知《{title}》",
                local_date(published_at),
                {"participants": participants},
            )
        )
    for teacher_id, items in discussions(week).items():
        out[teacher_id].extend(items)
    return out


def discussions(week: date) -> Items:
    """Class discussions in which ≥10 distinct student/guardian accounts posted this week,
    credited to the teacher who opened them. Counted only when backend.messaging is
    installed (it is optional for this app)."""
    if not apps.is_installed("backend.messaging"):
        return {}
    message_model = apps.get_model("messaging", "Message")
    member_model = apps.get_model("messaging", "Member")
    start, end = week_bounds(week)
    family_member = member_model.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        user_id=OuterRef("sender_id"),
        role__in=["guardian", "student"],
    )
    rows = (
        message_model.objects.filter(
            conversation__kind="discussion",
            created_at__gte=start,
            created_at__lt=end,
            is_system=False,
            sender_id__isnull=False,
        )
        .filter(Exists(family_member))
        .values("conversation_id", "conversation__created_by_id", "conversation__title")
        .annotate(n=Count("sender_id", distinct=True), first=Min("created_at"))
        .filter(n__gte=rules.NOTICE_PARTICIPANTS)
    )
    out: Items = defaultdict(list)
    for r in rows:
        out[r["conversation__created_by_id"]].append(
            Item(
                "discussion",
                r["conversation_id"],
                f"讨论《{r['conversation__title']}》",
                local_date(r["first"]),
                {"participants": r["n"]},
            )
        )
    return out


def _campaign_week_facts(week: date) -> tuple[dict[int, Any], dict[int, int], dict[int, int], dict[int, int]]:
    start, end = week_bounds(week)
    days = (week, week + timedelta(days=6))
    participants = dict(
        Checkin.objects.filter(date__range=days)
        .values("campaign_id")
        .annotate(n=Count("student_id", distinct=True))
        .values_list("campaign_id", "n")
    )
    campaigns: dict[int, dict[str, Any]] = {
        c["id"]: dict(c)
        for c in CheckinCampaign.objects.filter(start_date__lte=days[1], end_date__gte=days[0]).values(
            "id", "created_by_id", "title", "start_date"
        )
    }
    commented: dict[int, int] = {}
    for campaign_id, author_id, n in (
        CheckinComment.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("checkin__campaign_id", "author_id")
        .annotate(n=Count("checkin_id", distinct=True))
        .values_list("checkin__campaign_id", "author_id", "n")
    ):
        if campaigns.get(campaign_id, {}).get("created_by_id") == author_id:
            commented[campaign_id] = n
    liked = dict(
        CheckinLike.objects.filter(created_at__gte=start, created_at__lt=end, active=True)
        .values("checkin__campaign_id")
        .annotate(n=Count("id"))
        .values_list("checkin__campaign_id", "n")
    )
    return campaigns, participants, commented, liked


def activities_and_habits(week: date) -> tuple[Items, Items]:
    """班级活动 and 习惯养成, both over check-in campaigns (see README for the reading)."""
    campaigns, participants, commented, liked = _campaign_week_facts(week)
    activity: Items = defaultdict(list)
    habit: Items = defaultdict(list)
    for cid, c in campaigns.items():
        n, k = participants.get(cid, 0), commented.get(cid, 0)
        figures = {"participants": n, "commented": k, "likes": liked.get(cid, 0)}
        label = f"打卡活动《{c['title']}》"
        day = max(c["start_date"], week)
        if n >= rules.ACTIVITY_PARTICIPANTS or k >= rules.ACTIVITY_COMMENTED_WORKS:
            activity[c["created_by_id"]].append(Item("campaign", cid, label, day, figures))
        if n > 0 or k > 0 or liked.get(cid, 0) > 0:
            habit[c["created_by_id"]].append(Item("campaign", cid, label, day, figures))
    return activity, habit


def corrections(week: date) -> Items:
    """Assignments on which the teacher corrected ≥10 students' submissions this week."""
    start, end = week_bounds(week)
    out: Items = defaultdict(list)
    rows = (
        Feedback.objects.filter(created_at__gte=start, created_at__lt=end, teacher_id__isnull=False)
        .values("teacher_id", "submission__assignment_id", "submission__assignment__title")
        .annotate(n=Count("submission__student_id", distinct=True), first=Min("created_at"))
        .filter(n__gte=rules.CORRECTIONS)
    )
    for r in rows:
        out[r["teacher_id"]].append(
            Item(
                "assignment",
                r["submission__assignment_id"],
                f"批阅《{r['submission__assignment__title']}》",
                local_date(r["first"]),
                {"corrected": r["n"]},
            )
        )
    return out


def guided_tests(week: date) -> Items:
    """Assignments whose 10th student submitted this week, within 30 days of assigning."""
    start, end = week_bounds(week)
    horizon = timedelta(days=rules.GUIDED_TEST_DAYS)
    assignments = {
        a["id"]: a
        for a in Assignment.objects.filter(created_at__gte=start - horizon, created_at__lt=end).values(
            "id", "author_id", "title", "created_at"
        )
    }
    out: Items = defaultdict(list)
    if not assignments:
        return out
    firsts: dict[int, list[Any]] = defaultdict(list)
    for assignment_id, first in (
        Submission.objects.filter(assignment_id__in=assignments)
        .values("assignment_id", "student_id")
        .annotate(first=Min("submitted_at"))
        .values_list("assignment_id", "first")
    ):
        firsts[assignment_id].append(first)
    for aid, times in firsts.items():
        a = assignments[aid]
        inside = sorted(t for t in times if t < a["created_at"] + horizon)
        if len(inside) < rules.GUIDED_TEST_STUDENTS:
            continue
        reached = inside[rules.GUIDED_TEST_STUDENTS - 1]
        if start <= reached < end:
            out[a["author_id"]].append(
                Item(
                    "assignment",
                    aid,
                    f"作业《{a['title']}》",
                    local_date(reached),
                    {"completed": len(inside)},
                )
            )
    return out


def profile_complete_ids(teacher_ids: list[int]) -> list[int]:
    """Teachers with avatar, a contact, a school/class and a subject (信息完善's four items)."""
    with_subject = set(
        ClassMembership.objects.filter(user_id__in=teacher_ids, role=ClassMembership.Role.TEACHER)
        .exclude(subject="")
        .values_list("user_id", flat=True)
    )
    complete = (
        User.objects.filter(pk__in=with_subject)
        .exclude(avatar="")
        .exclude(phone__isnull=True)
        .exclude(phone="")
    )
    return list(complete.values_list("pk", flat=True))


def notice_participation(*, user_ids: list[int], start: Any, end: Any) -> dict[int, tuple[int, int]]:
    """Per user: (receipts of notices published in [start, end), of which read)."""
    rows = (
        NoticeReceipt.objects.filter(
            recipient_id__in=user_ids, notice__published_at__gte=start, notice__published_at__lt=end
        )
        .values("recipient_id")
        .annotate(total=Count("id"), read=Count("id", filter=Q(read_at__isnull=False)))
        .values_list("recipient_id", "total", "read")
    )
    return {uid: (total, read) for uid, total, read in rows}


def notices_sent_to_classes(*, class_ids: list[int], start: Any, end: Any) -> dict[int, int]:
    """Per class: notices published in [start, end) that reached it (by class, grade or
    whole school). Targets are JSON lists, matched in Python (portable across databases)."""
    classes = {
        c["id"]: c for c in SchoolClass.objects.filter(pk__in=class_ids).values("id", "grade_id", "school_id")
    }
    schools = {c["school_id"] for c in classes.values()}
    counts: dict[int, int] = dict.fromkeys(class_ids, 0)
    for scope, school_id, target_classes, target_grades in (
        Notice.objects.filter(school_id__in=schools, published_at__gte=start, published_at__lt=end)
        .exclude(status__in=[Notice.Status.CANCELLED])
        .values_list("scope", "school_id", "class_ids", "grade_ids")
    ):
        for cid, c in classes.items():
            if c["school_id"] != school_id:
                continue
            if (
                scope == Notice.Scope.SCHOOL
                or (scope == Notice.Scope.CLASSES and cid in (target_classes or []))
                or (scope == Notice.Scope.GRADES and c["grade_id"] in (target_grades or []))
            ):
                counts[cid] += 1
    return counts
