"""Realtime events of conversations: types and JSON Schemas of their `data`.

Events carry the rendered message row (what GET conversations/{id}/messages/ answers),
so an open chat screen can append it without a round trip."""

from __future__ import annotations

from typing import Any

from backend.realtime.registry import register_event

MESSAGE_CREATED = "message.created"
MESSAGE_DELETED = "message.deleted"
CONVERSATION_READ = "conversation.read"

_ID = {"type": "integer", "minimum": 1}

MESSAGE_ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": _ID,
        "sender": {
            "type": "object",
            "properties": {"id": {"type": ["integer", "null"]}, "display_name": {"type": "string"}},
            "required": ["id", "display_name"],
            "additionalProperties": False,
        },
        "body": {"type": ["string", "null"]},
        "attachments": {"type": "array", "items": {"type": "object"}},
        "reply_to": {"type": ["integer", "null"]},
        "created_at": {"type": "string"},
        "deleted": {"type": "boolean"},
        "system": {"type": "boolean"},
        "pending": {"type": "boolean"},
    },
    "required": ["id", "sender", "body", "attachments", "reply_to", "created_at", "deleted"],
}

MESSAGE_CREATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"conversation_id": _ID, "message": MESSAGE_ROW_SCHEMA},
    "required": ["conversation_id", "message"],
    "additionalProperties": False,
}

MESSAGE_DELETED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"conversation_id": _ID, "message_id": _ID},
    "required": ["conversation_id", "message_id"],
    "additionalProperties": False,
}

CONVERSATION_READ_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "conversation_id": _ID,
        "up_to": {"type": "integer", "minimum": 0},
        "unread": {"type": "integer"},
    },
    "required": ["conversation_id", "up_to", "unread"],
    "additionalProperties": False,
}


def register() -> None:
    register_event(
        MESSAGE_CREATED,
        schema=MESSAGE_CREATED_SCHEMA,
        description="会话中有新消息 / A new message in a conversation",
        audience="the conversation's members (not the sender's own devices)",
    )
    register_event(
        MESSAGE_DELETED,
        schema=MESSAGE_DELETED_SCHEMA,
        description="消息被删除 / A message was deleted",
        audience="the conversation's members",
    )
    register_event(
        CONVERSATION_READ,
        schema=CONVERSATION_READ_SCHEMA,
        description="已读位置更新 / The reader's read marker moved (sync their other devices)",
        audience="the reader",
    )
