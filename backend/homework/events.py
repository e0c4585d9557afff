"""Realtime events of homework: types and JSON Schemas of their `data`.

Events are hints that point at REST resources (GET assignments/{id}/,
GET submissions/{id}/), not documents: no text, scores or comments travel in them."""

from __future__ import annotations

from typing import Any

from backend.realtime.registry import register_event

HOMEWORK_ASSIGNED = "homework.assigned"
HOMEWORK_SUBMITTED = "homework.submitted"
HOMEWORK_FEEDBACK = "homework.feedback"

_ID = {"type": "integer", "minimum": 1}

HOMEWORK_ASSIGNED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "assignment_id": _ID,
        "title": {"type": "string", "maxLength": 100},
        "subject": {"type": "string", "maxLength": 32},
        "due_at": {"type": "string"},
        "class_ids": {"type": "array", "items": _ID},
        "teacher": {
            "type": "object",
            "properties": {"id": {"type": ["integer", "null"]}, "display_name": {"type": "string"}},
            "required": ["id", "display_name"],
            "additionalProperties": False,
        },
    },
    "required": ["assignment_id", "title", "subject", "due_at", "class_ids", "teacher"],
    "additionalProperties": False,
}

HOMEWORK_SUBMITTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "assignment_id": _ID,
        "submission_id": _ID,
        "student": {
            "type": "object",
            "properties": {"id": _ID, "name": {"type": "string"}},
            "required": ["id", "name"],
            "additionalProperties": False,
        },
        "class_id": _ID,
        "version": {"type": "integer", "minimum": 1},
        "late": {"type": "boolean"},
    },
    "required": ["assignment_id", "submission_id", "student", "class_id", "version", "late"],
    "additionalProperties": False,
}

HOMEWORK_FEEDBACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "assignment_id": _ID,
        "submission_id": _ID,
        "student_id": _ID,
        "version": {"type": "integer", "minimum": 1},
        "request_resubmit": {"type": "boolean"},
    },
    "required": ["assignment_id", "submission_id", "student_id", "version", "request_resubmit"],
    "additionalProperties": False,
}


def register() -> None:
    register_event(
        HOMEWORK_ASSIGNED,
        schema=HOMEWORK_ASSIGNED_SCHEMA,
        description="有新作业：assignment_id、标题、学科、截止时间；详情用 GET assignments/{id}/ 获取",
        audience="作业所在班级的学生及其家长",
    )
    register_event(
        HOMEWORK_SUBMITTED,
        schema=HOMEWORK_SUBMITTED_SCHEMA,
        description="学生提交了作业（含重新提交的新版本、是否迟交）；详情用 GET submissions/{id}/ 获取",
        audience="该学生所在班级的任课教师",
    )
    register_event(
        HOMEWORK_FEEDBACK,
        schema=HOMEWORK_FEEDBACK_SCHEMA,
        description="老师批改了作业（或要求重新提交）；批改内容用 GET submissions/{id}/ 获取",
        audience="该学生本人及其家长",
    )
