"""A student's submission (or a guardian's for a young child): versioned, late-marked,
safe to retry with the phone's client_id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.conventions.errors import ApiError, not_found
from backend.delivery.services import Event, notify
from backend.files.services import files_claim
from backend.homework.events import HOMEWORK_SUBMITTED
from backend.homework.models import Assignment, Submission
from backend.homework.selectors import (
    KIND_OF_TYPE,
    Viewer,
    assignment_class_ids,
    current_feedback,
    current_submission,
    submission_by_client_id,
)
from backend.privacy.services import privacy_require_consent
from backend.schools.models import ClassMembership
from backend.schools.selectors import class_members

SOURCE_SUBMISSION = "homework_submission"


@dataclass(frozen=True)
class SubmitResult:
    submission: Submission
    created: bool  # False: a retry with the same client_id returned the first result


def _fingerprint(*, assignment_id: int, student_id: int, text: str, attachment_ids: list[int]) -> str:
    body = json.dumps([assignment_id, student_id, text, attachment_ids], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(existing: Submission, fingerprint: str) -> SubmitResult:
    if existing.fingerprint != fingerprint:
        raise ApiError("client_id_reused", "该 client_id 已用于内容不同的提交", status_code=409)
    return SubmitResult(existing, created=False)


def check_content(*, assignment: Assignment, owner: Any, text: str, attachment_ids: list[int]) -> list[int]:
    """The attachment ids to store, after checking the content against the assignment's
    submission types (400 submission_type_not_allowed) and that something was sent."""
    types = set(assignment.submission_types)
    if text and Assignment.SubmissionType.TEXT not in types:
        raise ApiError(
            "submission_type_not_allowed", "本作业不接受文字提交", fields={"text": ["本作业不接受文字"]}
        )
    files = files_claim(ids=attachment_ids, owner=owner) if attachment_ids else []
    allowed_kinds = {KIND_OF_TYPE[t] for t in types if t in KIND_OF_TYPE}
    refused = [f for f in files if f.kind not in allowed_kinds]
    if refused:
        raise ApiError(
            "submission_type_not_allowed",
            "本作业不接受该类型的附件：" + "、".join(sorted({f.get_kind_display() for f in refused})),
            fields={"attachment_ids": [f"不接受的附件：{f.pk}" for f in refused]},
        )
    if not text and not files:
        raise ApiError("empty_submission", "请填写文字或添加附件后再提交")
    return [f.pk for f in files]


def submission_create(
    *,
    assignment: Assignment,
    actor: Any,
    viewer: Viewer,
    student_id: int,
    text: str,
    attachment_ids: list[int],
    client_id: str,
) -> SubmitResult:
    """Submit work for `student_id`: the caller themselves, or a child of the caller
    (404 otherwise). A second submission is a new version (allowed when the assignment
    allows resubmission or the teacher asked for one); work after the due time is
    marked late; nothing is accepted once the assignment is closed. Tells the class's
    teachers (realtime event only: a push per submission would be noise)."""
    privacy_require_consent(student_id=student_id)
    fingerprint = _fingerprint(
        assignment_id=assignment.pk, student_id=student_id, text=text, attachment_ids=attachment_ids
    )
    try:
        with transaction.atomic():
            return _submit(
                assignment, actor, viewer, student_id, text, attachment_ids, client_id, fingerprint
            )
    except IntegrityError:
        # A concurrent copy of the same request won the unique (submitted_by, client_id).
        existing = submission_by_client_id(submitted_by=actor, client_id=client_id)
        if existing is None:
            raise
        return _replay(existing, fingerprint)


def _submit(
    assignment: Assignment,
    actor: Any,
    viewer: Viewer,
    student_id: int,
    text: str,
    attachment_ids: list[int],
    client_id: str,
    fingerprint: str,
) -> SubmitResult:
    # One submitter at a time per assignment: versions and the close check stay exact.
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    existing = submission_by_client_id(submitted_by=actor, client_id=client_id)
    if existing is not None:
        return _replay(existing, fingerprint)

    student = viewer.students.get(student_id)
    classes = set(assignment_class_ids(assignment))
    if student is None or not student.class_ids & classes:
        raise not_found("学生不存在")
    if locked.is_closed:
        raise ApiError("assignment_closed", "作业已关闭，不能再提交", status_code=409)
    previous = current_submission(assignment=locked, student_id=student_id)
    if previous is not None:
        feedback = current_feedback(previous)
        if not locked.allow_resubmit and not (feedback and feedback.request_resubmit):
            raise ApiError("resubmit_not_allowed", "本作业已提交，老师未允许重新提交", status_code=409)
    stored_ids = check_content(assignment=locked, owner=actor, text=text, attachment_ids=attachment_ids)

    now = timezone.now()
    class_id = min(student.class_ids & classes)
    if previous is not None:
        Submission.objects.filter(pk=previous.pk).update(is_current=False)
    submission = Submission.objects.create(
        assignment=locked,
        student_id=student_id,
        school_class_id=class_id,
        version=(previous.version + 1) if previous else 1,
        is_current=True,
        text=text,
        attachment_ids=stored_ids,
        submitted_by=actor,
        submitted_by_label=student.label[:64],
        submitted_at=now,
        late=now > locked.due_at,
        client_id=client_id,
        fingerprint=fingerprint,
    )
    teachers = class_members(class_ids=[class_id], role=ClassMembership.Role.TEACHER).values_list(
        "user_id", flat=True
    )
    notify(
        list(teachers),
        Event(
            type=HOMEWORK_SUBMITTED,
            data={
                "assignment_id": locked.pk,
                "submission_id": submission.pk,
                "student": {"id": student_id, "name": student.name},
                "class_id": class_id,
                "version": submission.version,
                "late": submission.late,
            },
            source_type=SOURCE_SUBMISSION,
            source_id=submission.pk,
        ),
        school_id=locked.school_id,
        push=None,
    )
    return SubmitResult(submission, created=True)
