"""Teachers' office hours and the release of pushes held outside them."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.conventions.errors import ApiError
from backend.delivery.services import Event, PushContent, notify
from backend.messaging.events import MESSAGE_CREATED
from backend.messaging.models import Member, Message, OfficeHours
from backend.messaging.selectors import message_rows, unread_count

HELD_SOURCE = "message.office_hours"


@transaction.atomic
def office_hours_set(*, teacher: Any, weekdays: list[int], start: time, end: time) -> OfficeHours:
    days = sorted({int(d) for d in weekdays})
    if any(d < 1 or d > 7 for d in days):
        raise ApiError("invalid_weekdays", "工作日需为 1–7（周一至周日）", fields={"weekdays": ["无效"]})
    if start >= end:
        raise ApiError("invalid_hours", "开始时间需早于结束时间", fields={"end": ["需晚于开始时间"]})
    hours, _ = OfficeHours.objects.update_or_create(
        teacher=teacher, defaults={"weekdays": days, "start": start, "end": end}
    )
    return hours


def office_hours_release_due(*, now: datetime | None = None) -> int:
    """Push teachers whose office hours have started about the guardians' messages that
    came in overnight and that they have not read yet. Run every minute by beat."""
    now = now or timezone.now()
    released = 0
    due = list(Member.objects.filter(push_due_at__lte=now).select_related("conversation"))
    for member in due:
        with transaction.atomic():
            claimed = Member.objects.filter(pk=member.pk, push_due_at=member.push_due_at).update(
                push_due_at=None
            )
            if not claimed:
                continue
            unread = unread_count(member=member)
            latest = (
                Message.objects.filter(
                    conversation_id=member.conversation_id,
                    status=Message.Status.VISIBLE,
                    deleted_at__isnull=True,
                    is_system=False,
                )
                .exclude(sender_id=member.user_id)
                .order_by("-id")
                .first()
            )
            if not unread or latest is None:
                continue
            row = message_rows(messages=[latest], viewer_id=member.user_id)[0]
            notify(
                [member.user_id],
                Event(
                    MESSAGE_CREATED,
                    {"conversation_id": member.conversation_id, "message": row},
                    HELD_SOURCE,
                    latest.pk,
                ),
                school_id=member.conversation.school_id,
                push=PushContent(
                    title=latest.sender_name,
                    body=f"{unread} 条家长消息待回复",
                    data={"conversation_id": str(member.conversation_id), "message_id": str(latest.pk)},
                ),
                topic=f"conversation:{member.conversation_id}",
            )
            released += 1
    return released
