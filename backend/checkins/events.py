"""Realtime events of check-ins: types and JSON Schemas of their `data`.

Events are hints that point at REST resources (GET checkin-campaigns/{id}/checkins/),
not documents: no text, no attachments."""

from __future__ import annotations

from typing import Any

from backend.realtime.registry import register_event

CHECKIN_CREATED = "checkin.created"
CHECKIN_COMMENTED = "checkin.commented"
CHECKIN_REMINDER = "checkin.reminder"

_ID = {"type": "integer", "minimum": 1}
_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_PERSON = {
    "type": "object",
    "properties": {"id": {"type": ["integer", "null"]}, "display_name": {"type": "string"}},
    "required": ["id", "display_name"],
    "additionalProperties": False,
}

CHECKIN_CREATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "checkin_id": _ID,
        "campaign_id": _ID,
        "campaign_title": {"type": "string"},
        "class_id": _ID,
        "student": {
            "type": "object",
            "properties": {"id": _ID, "name": {"type": "string"}},
            "required": ["id", "name"],
            "additionalProperties": False,
        },
        "date": _DATE,
        "is_makeup": {"type": "boolean"},
        "submitted_by": _PERSON,
    },
    "required": ["checkin_id", "campaign_id", "class_id", "student", "date", "is_makeup", "submitted_by"],
    "additionalProperties": False,
}

CHECKIN_COMMENTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "checkin_id": _ID,
        "campaign_id": _ID,
        "student_id": _ID,
        "date": _DATE,
        "kind": {"enum": ["comment", "like"]},
        "comment_id": {"type": ["integer", "null"]},
        "author": _PERSON,
    },
    "required": ["checkin_id", "campaign_id", "student_id", "date", "kind", "comment_id", "author"],
    "additionalProperties": False,
}

CHECKIN_REMINDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"campaign_id": _ID, "campaign_title": {"type": "string"}, "date": _DATE},
    "required": ["campaign_id", "campaign_title", "date"],
    "additionalProperties": False,
}


def register() -> None:
    register_event(
        CHECKIN_CREATED,
        schema=CHECKIN_CREATED_SCHEMA,
        description="学生完成了一次打卡（含补卡）；详情用 GET checkin-campaigns/{id}/checkins/?student_id=&date= 获取。"
        "只在应用内出现，不推送（避免每次打卡都打扰教师）",
        audience="该学生所在班级的任课教师",
    )
    register_event(
        CHECKIN_COMMENTED,
        schema=CHECKIN_COMMENTED_SCHEMA,
        description="教师点评（kind=comment）或点赞（kind=like）了一次打卡",
        audience="打卡的学生本人及其家长",
    )
    register_event(
        CHECKIN_REMINDER,
        schema=CHECKIN_REMINDER_SCHEMA,
        description="打卡提醒：今天的打卡还没有完成（按活动的提醒时间发送，只推送不发短信）",
        audience="当天尚未打卡的学生及其家长",
    )
