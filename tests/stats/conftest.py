"""Stats fixtures: a clock on a Wednesday, and makers for the rows the scoring job reads
(notices with receipts, check-in campaigns, assignments with submissions and feedback)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from backend.stats.weeks import SHANGHAI

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)  # a Wednesday
WEEK = date(2026, 11, 23)
LAST_WEEK = date(2026, 11, 16)

_seq = count(1)


@pytest.fixture(autouse=True)
def _clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def add_students(school_class: Any, n: int) -> list[tuple[Any, Any]]:
    """n more students in the class, each with one guardian (mother)."""
    from backend.accounts.services import user_ensure
    from backend.schools.services import guardianship_link, membership_set

    pairs = []
    for _ in range(n):
        k = next(_seq)
        student, _ = user_ensure(name=f"加学生{k}", student_number=f"X{k:06d}", password="pw-123456")
        membership_set(school_class=school_class, user=student, role="student")
        guardian, _ = user_ensure(name=f"加家长{k}", phone=f"137{k:08d}", password="pw-123456")
        guardianship_link(guardian=guardian, student=student, relation="母亲")
        pairs.append((student, guardian))
    return pairs


def make_notice(
    teacher: Any,
    school_class: Any,
    readers: list[Any],
    *,
    at: datetime,
    others: list[Any] = (),
    title: str = "家长会通知",
    confirm: bool = False,
) -> Any:
    """A published class notice; `readers` read it, `others` received it unread."""
    from backend.notices.models import Notice, NoticeReceipt

    notice = Notice.objects.create(
        author=teacher,
        author_name=teacher.name,
        org=school_class.school,
        school=school_class.school,
        scope=Notice.Scope.CLASSES,
        class_ids=[school_class.pk],
        target_label=school_class.name,
        title=title,
        body="请按时参加。",
        audience=Notice.Audience.GUARDIANS,
        status=Notice.Status.PUBLISHED,
        published_at=at,
        created_at=at,
        recipients_count=len(readers) + len(others),
        read_count=len(readers),
        confirmed_count=len(readers) if confirm else 0,
        require_confirmation=confirm,
    )
    NoticeReceipt.objects.bulk_create(
        [
            NoticeReceipt(
                notice=notice,
                recipient=u,
                role="guardian",
                display_name=u.name,
                read_at=at,
                confirmed_at=at if confirm else None,
            )
            for u in readers
        ]
        + [NoticeReceipt(notice=notice, recipient=u, role="guardian", display_name=u.name) for u in others]
    )
    return notice


def make_campaign(teacher: Any, school_class: Any, *, title: str = "每日阅读", start: date = WEEK) -> Any:
    from backend.checkins.models import CheckinCampaign, CheckinCampaignClass

    campaign = CheckinCampaign.objects.create(
        school=school_class.school,
        created_by=teacher,
        created_by_name=teacher.name,
        title=title,
        start_date=start,
        end_date=start + timedelta(days=30),
        weekdays=[1, 2, 3, 4, 5, 6, 7],
    )
    CheckinCampaignClass.objects.create(campaign=campaign, school_class=school_class)
    return campaign


def make_checkins(campaign: Any, school_class: Any, students: list[Any], *, day: date) -> list[Any]:
    from backend.checkins.models import Checkin

    return [
        Checkin.objects.create(
            campaign=campaign,
            student=s,
            school_class=school_class,
            date=day,
            submitted_by=s,
            submitted_by_name=s.name,
            client_id=f"c{next(_seq)}",
            created_at=NOW,
        )
        for s in students
    ]


def make_assignment(teacher: Any, school_class: Any, *, at: datetime, title: str = "口算练习") -> Any:
    from backend.homework.models import Assignment, AssignmentClass

    assignment = Assignment.objects.create(
        author=teacher,
        author_name=teacher.name,
        school=school_class.school,
        subject="数学",
        title=title,
        due_at=at + timedelta(days=2),
        submission_types=["text"],
        grading="none",
        created_at=at,
    )
    AssignmentClass.objects.create(assignment=assignment, school_class=school_class)
    return assignment


def make_submissions(
    assignment: Any, school_class: Any, students: list[Any], *, at: datetime, corrected_by: Any = None
) -> list[Any]:
    from backend.homework.models import Feedback, Submission

    subs = []
    for s in students:
        sub = Submission.objects.create(
            assignment=assignment,
            student=s,
            school_class=school_class,
            version=1,
            text="答案",
            submitted_by=s,
            submitted_by_label=s.name,
            submitted_at=at,
            client_id=f"h{next(_seq)}",
            fingerprint="x",
        )
        if corrected_by is not None:
            Feedback.objects.create(
                submission=sub,
                teacher=corrected_by,
                teacher_name=corrected_by.name,
                comment="很好",
                created_at=at,
            )
        subs.append(sub)
    return subs


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI)


def make_discussion(
    teacher: Any, school_class: Any, posters: list[Any], *, at: datetime, title: str = "春游讨论"
) -> Any:
    """A class discussion opened by `teacher` in which each of `posters` (guardians) posts once."""
    from backend.messaging.models import Conversation, Member, Message

    conversation = Conversation.objects.create(
        kind="discussion",
        school=school_class.school,
        school_class=school_class,
        title=title,
        created_by=teacher,
    )
    Member.objects.create(conversation=conversation, user=teacher, role="teacher", display_name=teacher.name)
    for user in posters:
        Member.objects.create(conversation=conversation, user=user, role="guardian", display_name=user.name)
    messages = [
        Message.objects.create(conversation=conversation, sender=u, sender_name=u.name, body="好的")
        for u in [teacher, *posters]
    ]
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(created_at=at)
    return conversation
