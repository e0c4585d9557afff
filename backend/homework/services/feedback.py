"""A teacher's feedback (批改/点评) on one submission version."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.delivery.services import Event, PushContent, notify
from backend.files.services import files_claim
from backend.homework.events import HOMEWORK_FEEDBACK
from backend.homework.models import Assignment, Feedback, Submission
from backend.homework.selectors import GRADE_SCALES
from backend.schools.selectors import guardianships_of_students

SOURCE_FEEDBACK = "homework_feedback"


def check_mark(*, assignment: Assignment, score: Decimal | None, grade: str) -> None:
    """A score only for score-graded work, within 0..max_score; a grade only for
    grade-graded work, from its scale."""
    if score is not None:
        if assignment.grading != Assignment.Grading.SCORE:
            raise ApiError("invalid_score", "本作业不按分数批改", fields={"score": ["本作业不打分"]})
        top = assignment.max_score or 0
        if not Decimal(0) <= score <= Decimal(top):
            raise ApiError(
                "invalid_score", f"分数需在 0–{top} 之间", fields={"score": [f"需在 0–{top} 之间"]}
            )
    if grade:
        if assignment.grading != Assignment.Grading.GRADE:
            raise ApiError("invalid_grade", "本作业不按等级批改", fields={"grade": ["本作业不评等级"]})
        scale = GRADE_SCALES.get(assignment.grade_scale, [])
        if grade not in scale:
            raise ApiError(
                "invalid_grade", f"等级需为 {'、'.join(scale)} 之一", fields={"grade": ["不在等级制内"]}
            )


@transaction.atomic
def feedback_give(
    *,
    submission: Submission,
    teacher: Any,
    score: Decimal | None = None,
    grade: str = "",
    comment: str = "",
    voice_attachment_id: int | None = None,
    excellent: bool = False,
    request_resubmit: bool = False,
) -> Feedback:
    """Record feedback on the current version of a submission (a teacher of its class).
    Giving feedback again adds a new current row and keeps the earlier ones as history.
    `request_resubmit` lets the student submit a new version even when the assignment
    does not allow resubmission. Tells the student and their guardians."""
    locked = Submission.objects.select_for_update().select_related("assignment").get(pk=submission.pk)
    assignment = locked.assignment
    if not locked.is_current:
        raise ApiError("submission_superseded", "该学生已提交新版本，请批改最新版本", status_code=409)
    if request_resubmit and assignment.is_closed:
        raise ApiError("assignment_closed", "作业已关闭，不能要求重新提交", status_code=409)
    if excellent and request_resubmit:
        raise ApiError("conflicting_feedback", "优秀作业与要求重新提交不能同时选择")
    check_mark(assignment=assignment, score=score, grade=grade)
    if (
        score is None
        and not grade
        and not comment
        and voice_attachment_id is None
        and not (excellent or request_resubmit)
    ):
        raise ApiError("empty_feedback", "请填写分数、等级、评语或语音点评")
    if voice_attachment_id is not None:
        files_claim(ids=[voice_attachment_id], owner=teacher, allowed_kinds={"voice"})

    now = timezone.now()
    Feedback.objects.filter(submission=locked, is_current=True).update(is_current=False)
    feedback = Feedback.objects.create(
        submission=locked,
        teacher=teacher,
        teacher_name=teacher.name[:64],
        score=score,
        grade=grade,
        comment=comment,
        voice_attachment_id=voice_attachment_id,
        excellent=excellent,
        request_resubmit=request_resubmit,
        is_current=True,
        created_at=now,
    )
    Submission.objects.filter(pk=locked.pk).update(feedback_at=now)
    submission.feedback_at = now
    audit_record(
        action="homework.feedback_given",
        actor=teacher,
        obj=feedback,
        detail={"submission_id": locked.pk, "excellent": excellent, "request_resubmit": request_resubmit},
    )

    guardians = guardianships_of_students(student_ids=[locked.student_id]).values_list(
        "guardian_id", flat=True
    )
    notify(
        [locked.student_id, *guardians],
        Event(
            type=HOMEWORK_FEEDBACK,
            data={
                "assignment_id": assignment.pk,
                "submission_id": locked.pk,
                "student_id": locked.student_id,
                "version": locked.version,
                "request_resubmit": request_resubmit,
            },
            source_type=SOURCE_FEEDBACK,
            source_id=feedback.pk,
        ),
        school_id=assignment.school_id,
        push=PushContent(
            title="请重新提交作业" if request_resubmit else "作业已批改",
            body=f"{assignment.subject}《{assignment.title}》：{teacher.name}给出了点评",
            data={"assignment_id": str(assignment.pk), "submission_id": str(locked.pk)},
        ),
    )
    return feedback
