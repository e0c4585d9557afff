"""Reads of conversations, messages and reports, scoped to the caller.

A conversation exists for its members only: everyone else gets 404. Moderators are
the teachers who are members of it and the admins of its school."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.conventions.errors import not_found
from backend.files.selectors import file_payloads
from backend.schools.selectors import admin_org_paths, schools_administered

from .models import Conversation, Member, Message, OfficeHours, Report, SensitiveWord
from .moderation.filtering import default_words


def membership_get(*, user: Any, conversation_id: object) -> Member:
    """The caller's membership of the conversation, or 404."""
    try:
        key = int(str(conversation_id))
    except (TypeError, ValueError):
        raise not_found("会话不存在") from None
    member = (
        Member.objects.select_related("conversation", "conversation__school")
        .filter(conversation_id=key, user=user)
        .first()
    )
    if member is None:
        raise not_found("会话不存在")
    return member


def is_moderator(*, user: Any, member: Member | None, conversation: Conversation) -> bool:
    if member is not None and member.role == Member.Role.TEACHER:
        return True
    paths = admin_org_paths(user=user)
    return any(conversation.school.path.startswith(p) for p in paths)


def _unread_subquery(user: Any) -> Subquery:
    counted = (
        Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            id__gt=OuterRef("last_read_id"),
            status=Message.Status.VISIBLE,
            deleted_at__isnull=True,
            # Automatic replies are not something to answer.
            is_system=False,
        )
        .exclude(sender=user)
        .order_by()
        .values("conversation_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def conversation_list(*, user: Any) -> QuerySet[Member]:
    """The caller's memberships with their conversations and `unread` counts, newest
    activity first. One query."""
    return (
        Member.objects.filter(user=user)
        .select_related("conversation", "conversation__school_class", "conversation__student")
        .annotate(unread=Coalesce(_unread_subquery(user), Value(0)))
        .order_by("-conversation__last_message_id", "-conversation_id")
    )


def unread_count(*, member: Member) -> int:
    return (
        Message.objects.filter(
            conversation_id=member.conversation_id,
            id__gt=member.last_read_id,
            status=Message.Status.VISIBLE,
            deleted_at__isnull=True,
            is_system=False,
        )
        .exclude(sender_id=member.user_id)
        .count()
    )


def counterpart_names(*, conversation_ids: Sequence[int], user: Any) -> dict[int, str]:
    """For direct chats: the other member's display name, by conversation. One query."""
    rows = (
        Member.objects.filter(conversation_id__in=list(conversation_ids))
        .exclude(user=user)
        .values_list("conversation_id", "display_name")
    )
    return dict(rows)


def messages_visible(*, member: Member) -> QuerySet[Message]:
    """History as this member sees it: everything visible, plus their own held messages
    (shown to them as pending)."""
    return Message.objects.filter(conversation_id=member.conversation_id).filter(
        Q(status=Message.Status.VISIBLE) | Q(sender_id=member.user_id)
    )


def message_for_member(*, user: Any, message_id: object) -> tuple[Message, Member]:
    """A message the caller can see, with their membership of its conversation; else 404."""
    try:
        key = int(str(message_id))
    except (TypeError, ValueError):
        raise not_found("消息不存在") from None
    message = Message.objects.select_related("conversation", "conversation__school").filter(pk=key).first()
    member = None
    if message is not None:
        member = Member.objects.filter(conversation_id=message.conversation_id, user=user).first()
    visible = message is not None and (
        message.status == Message.Status.VISIBLE or message.sender_id == user.pk
    )
    if message is None or member is None or not visible:
        raise not_found("消息不存在")
    return message, member


def message_rows(*, messages: Iterable[Message], viewer_id: int) -> list[dict[str, Any]]:
    """Render messages as API rows; attachments in one query for the whole page."""
    items = list(messages)
    ids = [fid for m in items if m.deleted_at is None for fid in (m.attachment_ids or [])]
    files = file_payloads(ids=ids) if ids else {}
    return [message_row(m, files=files, viewer_id=viewer_id) for m in items]


def message_row(message: Message, *, files: dict[int, dict[str, Any]], viewer_id: int) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "sender": {"id": message.sender_id, "display_name": message.sender_name},
        "body": None if deleted else message.body,
        "attachments": [] if deleted else [files[i] for i in message.attachment_ids or [] if i in files],
        "reply_to": message.reply_to_id,
        "created_at": timezone.localtime(message.created_at).isoformat(),
        "deleted": deleted,
        "system": message.is_system,
        "pending": message.status == Message.Status.HELD,
    }


def reports_for_moderator(*, user: Any) -> QuerySet[Report]:
    """Reports on messages in conversations the caller teaches in, or of schools they
    administer."""
    q = Q(
        message__conversation__members__user=user,
        message__conversation__members__role=Member.Role.TEACHER,
    )
    schools = list(schools_administered(user=user).values_list("pk", flat=True))
    if schools:
        q |= Q(message__conversation__school_id__in=schools)
    ids = Report.objects.filter(q).values("pk")
    return Report.objects.filter(pk__in=Subquery(ids)).select_related("message", "message__conversation")


def words_for_school(*, school_id: int) -> list[tuple[str, str]]:
    """The platform's default list plus the school's own words."""
    own = SensitiveWord.objects.filter(school_id=school_id).values_list("word", "policy")
    return [*default_words(), *own]


def school_words(*, school_id: int) -> QuerySet[SensitiveWord]:
    return SensitiveWord.objects.filter(school_id=school_id).order_by("word")


def office_hours_get(*, teacher_id: int) -> OfficeHours:
    return OfficeHours.objects.filter(teacher_id=teacher_id).first() or OfficeHours(teacher_id=teacher_id)
