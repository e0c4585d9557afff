"""Writes on assignments: create (and tell the class), edit, close, remind the missing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.conventions.scope import ids_in_scope
from backend.delivery.selectors import delivery_states
from backend.delivery.services import Event, PushContent, delivery_remind, notify
from backend.files.services import files_claim
from backend.homework.events import HOMEWORK_ASSIGNED
from backend.homework.models import Assignment, AssignmentClass
from backend.homework.selectors import assignment_class_ids, missing_recipients
from backend.schools.models import ClassMembership, SchoolClass
from backend.schools.selectors import class_members, guardians_of_classes, taught_classes

SOURCE_ASSIGNMENT = "homework_assignment"
# Fields a teacher may change after assigning; grading and classes are fixed because
# feedback and submissions already depend on them.
EDITABLE_FIELDS = (
    "subject",
    "title",
    "instructions",
    "attachment_ids",
    "due_at",
    "submission_types",
    "allow_resubmit",
)


def check_due_at(due_at: datetime, *, now: datetime) -> None:
    if due_at <= now:
        raise ApiError("due_in_past", "截止时间必须晚于现在", fields={"due_at": ["截止时间已过"]})


def check_grading(*, grading: str, max_score: int | None, grade_scale: str) -> tuple[int | None, str]:
    """The (max_score, grade_scale) to store for a grading scheme, or a 400."""
    if grading == Assignment.Grading.SCORE:
        if max_score is None or not 1 <= max_score <= 1000:
            raise ApiError(
                "invalid_max_score", "按分数批改时需填写满分（1–1000）", fields={"max_score": ["需为 1–1000"]}
            )
        return max_score, ""
    if grading == Assignment.Grading.GRADE:
        if grade_scale not in Assignment.GradeScale.values:
            raise ApiError(
                "invalid_grade_scale",
                "按等级批改时需选择等级制（A-E 或 优良中差）",
                fields={"grade_scale": ["需为 A-E 或 优良中差"]},
            )
        return None, grade_scale
    return None, ""


def check_submission_types(types: Collection[str]) -> list[str]:
    wanted = list(dict.fromkeys(types))
    if not wanted or any(t not in Assignment.SubmissionType.values for t in wanted):
        raise ApiError(
            "invalid_submission_types",
            "提交方式需从 文字、图片、语音、视频、文件 中选择至少一种",
            fields={"submission_types": ["可选 text、photo、voice、video、file"]},
        )
    return wanted


def assigned_event(assignment: Assignment, class_ids: list[int]) -> Event:
    return Event(
        type=HOMEWORK_ASSIGNED,
        data={
            "assignment_id": assignment.pk,
            "title": assignment.title,
            "subject": assignment.subject,
            "due_at": timezone.localtime(assignment.due_at).isoformat(),
            "class_ids": class_ids,
            "teacher": {"id": assignment.author_id, "display_name": assignment.author_name},
        },
        source_type=SOURCE_ASSIGNMENT,
        source_id=assignment.pk,
    )


def _tell(assignment: Assignment, class_ids: list[int], recipients: list[int]) -> None:
    """homework.assigned with a push; never an SMS: homework is the student's, and
    parents are not to be made its messengers (MOE 2021)."""
    notify(
        recipients,
        assigned_event(assignment, class_ids),
        school_id=assignment.school_id,
        push=PushContent(
            title=f"{assignment.subject}作业",
            body=f"《{assignment.title}》截止 {timezone.localtime(assignment.due_at):%m月%d日 %H:%M}",
            data={"assignment_id": str(assignment.pk)},
        ),
    )


@transaction.atomic
def assignment_create(
    *,
    author: Any,
    class_ids: list[int],
    subject: str,
    title: str,
    instructions: str,
    due_at: datetime,
    submission_types: list[str],
    grading: str,
    max_score: int | None = None,
    grade_scale: str = "",
    allow_resubmit: bool = False,
    attachment_ids: list[int] | None = None,
) -> Assignment:
    """Assign homework to classes the author teaches (one school) and tell their
    students and guardians (realtime event and push; no SMS). Nothing is written or
    sent when any check fails."""
    now = timezone.now()
    classes: list[SchoolClass] = ids_in_scope(
        taught_classes(user=author).select_related("school"), class_ids, field="class_ids"
    )
    if not classes:
        raise ApiError("unknown_ids", "请选择班级", fields={"class_ids": ["至少选择一个班级"]})
    if len({c.school_id for c in classes}) > 1:
        raise ApiError("classes_in_different_schools", "一次布置的作业只能面向同一所学校的班级")
    check_due_at(due_at, now=now)
    types = check_submission_types(submission_types)
    max_score, grade_scale = check_grading(grading=grading, max_score=max_score, grade_scale=grade_scale)
    files = files_claim(ids=attachment_ids, owner=author) if attachment_ids else []

    assignment = Assignment.objects.create(
        author=author,
        author_name=author.name[:64],
        school=classes[0].school,
        subject=subject,
        title=title,
        instructions=instructions,
        attachment_ids=[f.pk for f in files],
        due_at=due_at,
        submission_types=types,
        grading=grading,
        max_score=max_score,
        grade_scale=grade_scale,
        allow_resubmit=allow_resubmit,
        created_at=now,
        updated_at=now,
    )
    ids = [c.pk for c in classes]
    AssignmentClass.objects.bulk_create(
        [AssignmentClass(assignment=assignment, school_class=c) for c in classes]
    )
    audit_record(
        action="homework.assignment_created", actor=author, obj=assignment, detail={"class_ids": ids}
    )

    students = class_members(class_ids=ids, role=ClassMembership.Role.STUDENT).values_list(
        "user_id", flat=True
    )
    guardians = guardians_of_classes(class_ids=ids).values_list("guardian_id", flat=True)
    _tell(assignment, sorted(ids), [*students, *guardians])
    return assignment


@transaction.atomic
def assignment_update(*, assignment: Assignment, actor: Any, changes: Mapping[str, Any]) -> Assignment:
    """Edit an open assignment before its due time (the author). Students see the new
    version when they open it; no new event is sent."""
    now = timezone.now()
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.is_closed:
        raise ApiError("assignment_closed", "作业已关闭，不能修改", status_code=409)
    if locked.due_at <= now:
        raise ApiError("assignment_past_due", "作业已过截止时间，不能修改", status_code=409)
    values = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    if "due_at" in values:
        check_due_at(values["due_at"], now=now)
    if "submission_types" in values:
        values["submission_types"] = check_submission_types(values["submission_types"])
    if "attachment_ids" in values:
        values["attachment_ids"] = [f.pk for f in files_claim(ids=values["attachment_ids"], owner=actor)]
    for name, value in values.items():
        setattr(locked, name, value)
    locked.updated_at = now
    locked.save(update_fields=[*values, "updated_at"])
    audit_record(
        action="homework.assignment_updated", actor=actor, obj=locked, detail={"fields": sorted(values)}
    )
    return locked


@transaction.atomic
def assignment_close(*, assignment: Assignment, actor: Any) -> Assignment:
    """Stop taking submissions (idempotent: closing twice keeps the first close)."""
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.closed_at is None:
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.save(update_fields=["closed_at", "closed_by"])
        audit_record(action="homework.assignment_closed", actor=actor, obj=locked)
    return locked


@transaction.atomic
def assignment_remind(*, assignment: Assignment, actor: Any, class_ids: Collection[int]) -> int:
    """Remind the students of `class_ids` who have not submitted, and their guardians,
    by push (never SMS). People told before get a reminder push through
    delivery_remind; people who joined the class since get homework.assigned now.
    Returns how many people were reminded. A constant number of queries."""
    if assignment.is_closed:
        raise ApiError("assignment_closed", "作业已关闭", status_code=409)
    people = missing_recipients(assignment=assignment, class_ids=class_ids)
    if not people:
        return 0
    told_before = set(
        delivery_states(
            source_type=SOURCE_ASSIGNMENT,
            source_id=assignment.pk,
            event_type=HOMEWORK_ASSIGNED,
            user_ids=people,
        )
    )
    reminded = delivery_remind(
        source_type=SOURCE_ASSIGNMENT,
        source_id=assignment.pk,
        event_type=HOMEWORK_ASSIGNED,
        user_ids=sorted(told_before),
        channel="push",
    )
    newcomers = [uid for uid in people if uid not in told_before]
    if newcomers:
        _tell(assignment, assignment_class_ids(assignment), newcomers)
    audit_record(
        action="homework.assignment_reminded",
        actor=actor,
        obj=assignment,
        detail={"reminded": reminded + len(newcomers)},
    )
    return reminded + len(newcomers)
