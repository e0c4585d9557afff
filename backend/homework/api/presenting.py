"""Turning assignments and submissions into response rows for one viewer.

Whole pages at once: stats, the viewer's children's work and attachment URLs are
fetched for every row of a page together, so a page costs a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from django.utils import timezone

from backend.files.selectors import file_payloads
from backend.homework.models import Assignment, Feedback, Submission
from backend.homework.selectors import (
    GRADE_SCALES,
    Viewer,
    assignment_class_ids,
    assignment_stats,
    current_feedback,
    current_submissions_of,
)
from backend.schools.pseudonyms import alias_label


def work_status(submission: Submission | None) -> str:
    if submission is None:
        return "missing"
    feedback = current_feedback(submission)
    if feedback is None:
        return "submitted"
    return "resubmit_requested" if feedback.request_resubmit else "corrected"


def can_submit(assignment: Assignment, submission: Submission | None) -> bool:
    if assignment.is_closed:
        return False
    if submission is None or assignment.allow_resubmit:
        return True
    feedback = current_feedback(submission)
    return bool(feedback and feedback.request_resubmit)


def assignment_status(assignment: Assignment) -> str:
    if assignment.is_closed:
        return "closed"
    return "past_due" if assignment.due_at <= timezone.now() else "open"


def _attachment_ids(submissions: Iterable[Submission]) -> list[int]:
    ids: list[int] = []
    for submission in submissions:
        ids.extend(submission.attachment_ids)
        feedback = current_feedback(submission)
        if feedback is not None and feedback.voice_attachment_id:
            ids.append(feedback.voice_attachment_id)
    return ids


def _feedback_row(feedback: Feedback | None, files: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    if feedback is None:
        return None
    return {
        "score": feedback.score,
        "grade": feedback.grade,
        "comment": feedback.comment,
        "voice": files.get(feedback.voice_attachment_id) if feedback.voice_attachment_id else None,
        "excellent": feedback.excellent,
        "request_resubmit": feedback.request_resubmit,
        "teacher": {"id": feedback.teacher_id, "display_name": feedback.teacher_name},
        "created_at": feedback.created_at,
    }


def submission_row(submission: Submission, files: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """One version (student and class loaded, current feedback prefetched)."""
    return {
        "id": submission.pk,
        "assignment_id": submission.assignment_id,
        "student": {"id": submission.student_id, "name": submission.student.name},
        "class_id": submission.school_class_id,
        "class_name": submission.school_class.name,
        "version": submission.version,
        "is_current": submission.is_current,
        "status": work_status(submission),
        "text": submission.text,
        "attachments": [files[i] for i in submission.attachment_ids if i in files],
        "submitted_by": {"id": submission.submitted_by_id, "display_name": submission.submitted_by_label},
        "submitted_at": submission.submitted_at,
        "late": submission.late,
        "feedback": _feedback_row(current_feedback(submission), files),
    }


def submission_detail(submission: Submission, versions: Sequence[Submission]) -> dict[str, Any]:
    files = file_payloads(ids=_attachment_ids([submission]))
    row = submission_row(submission, files)
    row["versions"] = [
        {
            "id": v.pk,
            "version": v.version,
            "is_current": v.is_current,
            "submitted_at": v.submitted_at,
            "late": v.late,
            "corrected": v.feedback_at is not None,
        }
        for v in versions
    ]
    return row


def roster_rows(memberships: Sequence[Any], assignment: Assignment) -> list[dict[str, Any]]:
    """Rows of GET assignments/{id}/submissions/: one per student (membership with user
    and class loaded), with the current version of their work. Three queries."""
    current = current_submissions_of(
        assignment_ids=[assignment.pk], student_ids=[m.user_id for m in memberships]
    )
    files = file_payloads(ids=_attachment_ids(current.values()))
    rows = []
    for membership in memberships:
        submission = current.get((assignment.pk, membership.user_id))
        if submission is not None:
            # Already loaded on the roster row; saves a join per submission.
            submission.student = membership.user
            submission.school_class = membership.school_class
        rows.append(
            {
                "student": {"id": membership.user_id, "name": membership.user.name},
                "class_id": membership.school_class_id,
                "class_name": membership.school_class.name,
                "status": work_status(submission),
                "submission": submission_row(submission, files) if submission else None,
            }
        )
    return rows


def assignment_rows(assignments: Sequence[Assignment], viewer: Viewer) -> list[dict[str, Any]]:
    """Assignments (loaded by assignments_visible) as the viewer sees them: stats over
    the classes they teach (admins: all classes), their own or children's work status.
    At most four queries for the page."""
    classes = {a.pk: assignment_class_ids(a) for a in assignments}
    stat_classes: dict[int, list[int]] = {}
    for a in assignments:
        taught = viewer.teacher_classes(classes[a.pk])
        if taught:
            stat_classes[a.pk] = sorted(taught)
        elif viewer.administers(a.school):
            stat_classes[a.pk] = classes[a.pk]
    stats = assignment_stats(classes_by_assignment=stat_classes)
    mine = {a.pk: viewer.students_in(classes[a.pk]) for a in assignments}
    student_ids = {s.id for students in mine.values() for s in students}
    work = current_submissions_of(assignment_ids=list(mine), student_ids=student_ids) if student_ids else {}
    files = file_payloads(ids=[i for a in assignments for i in a.attachment_ids])

    rows = []
    for a in assignments:
        my_rows = []
        for student in sorted(mine[a.pk], key=lambda s: s.id):
            submission = work.get((a.pk, student.id))
            my_rows.append(
                {
                    "student": {"id": student.id, "name": student.name},
                    "status": work_status(submission),
                    "can_submit": can_submit(a, submission),
                    "submission_id": submission.pk if submission else None,
                    "version": submission.version if submission else None,
                    "late": bool(submission and submission.late),
                    "submitted_at": submission.submitted_at if submission else None,
                }
            )
        stat = stats.get(a.pk)
        rows.append(
            {
                "id": a.pk,
                "title": a.title,
                "subject": a.subject,
                "instructions": a.instructions,
                "attachments": [files[i] for i in a.attachment_ids if i in files],
                "classes": [
                    {"id": link.school_class_id, "name": link.school_class.name}
                    for link in a.class_links.all()
                ],
                "author": {"id": a.author_id, "display_name": a.author_name},
                "due_at": a.due_at,
                "submission_types": a.submission_types,
                "grading": a.grading,
                "max_score": a.max_score,
                "grade_scale": a.grade_scale,
                "grades": GRADE_SCALES.get(a.grade_scale, []),
                "allow_resubmit": a.allow_resubmit,
                "status": assignment_status(a),
                "closed_at": a.closed_at,
                "created_at": a.created_at,
                "updated_at": a.updated_at,
                "is_author": a.author_id == viewer.user_id,
                "stats": asdict(stat) if stat else None,
                "my_submissions": my_rows,
            }
        )
    return rows


def excellent_rows(
    submissions: Sequence[Submission], *, names_public: bool, viewer: Viewer
) -> list[dict[str, Any]]:
    """Showcased work: no score, no comment; the student's name only when the school
    allows names in public, otherwise "同学A", "同学B"… in the order shown."""
    files = file_payloads(ids=[i for s in submissions for i in s.attachment_ids])
    return [
        {
            "id": s.pk,
            "student": {"display_name": s.student.name if names_public else alias_label(n)},
            "class_id": s.school_class_id,
            "class_name": s.school_class.name,
            "text": s.text,
            "attachments": [files[i] for i in s.attachment_ids if i in files],
            "submitted_at": s.submitted_at,
            "mine": s.student_id in viewer.students,
        }
        for n, s in enumerate(submissions, start=1)
    ]
