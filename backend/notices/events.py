"""Realtime events of notices: types and JSON Schemas of their `data`.

Events are hints that point at REST resources (GET notices/{id}/), not documents."""

from __future__ import annotations

from typing import Any

from backend.realtime.registry import register_event

NOTICE_CREATED = "notice.created"
NOTICE_RECALLED = "notice.recalled"
NOTICE_RECEIPT_UPDATED = "notice.receipt_updated"

_ID = {"type": "integer", "minimum": 1}
_COUNT = {"type": "integer", "minimum": 0}

NOTICE_CREATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "notice_id": _ID,
        "title": {"type": "string", "maxLength": 50},
        "urgent": {"type": "boolean"},
        "require_confirmation": {"type": "boolean"},
        "author": {
            "type": "object",
            "properties": {"id": {"type": ["integer", "null"]}, "display_name": {"type": "string"}},
            "required": ["id", "display_name"],
            "additionalProperties": False,
        },
        "target": {"type": "string"},
    },
    "required": ["notice_id", "title"],
    "additionalProperties": False,
}

NOTICE_RECALLED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"notice_id": _ID},
    "required": ["notice_id"],
    "additionalProperties": False,
}

NOTICE_RECEIPT_UPDATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"notice_id": _ID, "recipients": _COUNT, "read": _COUNT, "confirmed": _COUNT},
    "required": ["notice_id", "recipients", "read", "confirmed"],
    "additionalProperties": False,
}


def register() -> None:
    register_event(
        NOTICE_CREATED,
        schema=NOTICE_CREATED_SCHEMA,
        description="有新通知：notice_id、标题、是否紧急、是否需要回执；详情用 GET notices/{id}/ 获取",
        audience="通知的接收人（家长、学生）",
    )
    register_event(
        NOTICE_RECALLED,
        schema=NOTICE_RECALLED_SCHEMA,
        description="通知已被撤回：客户端隐藏正文与附件，显示“该通知已撤回”",
        audience="已收到该通知的接收人",
    )
    register_event(
        NOTICE_RECEIPT_UPDATED,
        schema=NOTICE_RECEIPT_UPDATED_SCHEMA,
        description="通知的已读/确认人数变化（最新统计）",
        audience="通知的发布人",
    )
