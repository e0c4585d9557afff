"""Output shapes (for the OpenAPI document) and how conversations are presented."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework import serializers

from backend.files.api.serializers import FileOutput
from backend.messaging.models import Member
from backend.messaging.selectors import counterpart_names


class ChatPersonOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    display_name = serializers.CharField()


class ChatRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChatMessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    sender = ChatPersonOutput()
    body = serializers.CharField(allow_null=True)
    attachments = FileOutput(many=True)
    reply_to = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    deleted = serializers.BooleanField()
    system = serializers.BooleanField(help_text="系统自动回复")
    pending = serializers.BooleanField(help_text="敏感词待审核（仅发送人可见）")


class ChatMessagePageOutput(serializers.Serializer):
    results = ChatMessageOutput(many=True)
    next = serializers.CharField(allow_null=True)


class ConversationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["discussion", "direct"])
    name = serializers.CharField(help_text="讨论主题，或私聊对方的显示名")
    title = serializers.CharField()
    school_class = ChatRefOutput(allow_null=True)
    student = ChatRefOutput(allow_null=True, help_text="私聊所涉及的学生")
    allow_students = serializers.BooleanField()
    closed = serializers.BooleanField()
    pinned_message_id = serializers.IntegerField(allow_null=True)
    last_message_id = serializers.IntegerField()
    unread = serializers.IntegerField()
    my_role = serializers.CharField()
    muted_until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


def conversation_rows(members: Sequence[Member], *, user: Any) -> list[dict[str, Any]]:
    """Rows for the caller's memberships; counterpart names in one query."""
    direct_ids = [m.conversation_id for m in members if m.conversation.kind == "direct"]
    names = counterpart_names(conversation_ids=direct_ids, user=user) if direct_ids else {}
    rows = []
    for m in members:
        c = m.conversation
        rows.append(
            {
                "id": c.pk,
                "kind": c.kind,
                "name": c.title or names.get(c.pk, "私聊"),
                "title": c.title,
                "school_class": {"id": c.school_class.pk, "name": c.school_class.name}
                if c.school_class
                else None,
                "student": {"id": c.student.pk, "name": c.student.name} if c.student else None,
                "allow_students": c.allow_students,
                "closed": c.closed_at is not None,
                "pinned_message_id": c.pinned_message_id,
                "last_message_id": c.last_message_id,
                "unread": getattr(m, "unread", 0) or 0,
                "my_role": m.role,
                "muted_until": m.muted_until,
                "created_at": c.created_at,
            }
        )
    return rows
