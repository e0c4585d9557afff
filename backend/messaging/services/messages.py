"""Sending and deleting messages, and telling the members."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.delivery.rules import SHANGHAI
from backend.delivery.services import Event, PushContent, SmsContent, notify
from backend.files.services import files_claim
from backend.messaging import office_hours
from backend.messaging.events import MESSAGE_CREATED, MESSAGE_DELETED
from backend.messaging.models import Conversation, Member, Message, Report
from backend.messaging.moderation import moderate_text
from backend.messaging.selectors import is_moderator, message_rows, office_hours_get, words_for_school
from backend.messaging.services.conversations import discussion_members_sync
from backend.realtime.services import send_event_on_commit

MAX_BODY = 2000
SENDER_DELETE_WINDOW = timedelta(minutes=2)
SOURCE_TYPE = "message"
SYSTEM_NAME = "系统消息"
ATTACHMENT_KINDS = {"image", "voice"}
# The chat_reply SMS template's content slot holds 35 characters.
SMS_CONTENT_MAX = 35
SMS_MORE = "…(请登录家校通查看全文)"


def topic(conversation_id: int) -> str:
    """The delivery topic members mute a conversation by."""
    return f"conversation:{conversation_id}"


def sms_content(body: str) -> str:
    """An answer shortened to the template slot: long answers end with a pointer to the
    app rather than being split into several paid texts."""
    text = " ".join(body.split())
    if len(text) <= SMS_CONTENT_MAX:
        return text
    return text[: SMS_CONTENT_MAX - len(SMS_MORE)] + SMS_MORE


def _check_can_post(member: Member, now: Any) -> None:
    conversation = member.conversation
    if conversation.closed_at is not None:
        raise ApiError("conversation_closed", "该讨论已关闭", status_code=409)
    if member.muted_until is not None and member.muted_until > now:
        until = member.muted_until.astimezone(SHANGHAI)
        raise ApiError(
            "muted_until",
            f"您已被禁言至 {until:%m-%d %H:%M}",
            status_code=403,
            fields={"muted_until": [until.isoformat()]},
        )
    if member.role == Member.Role.STUDENT and not conversation.allow_students:
        raise ApiError("students_read_only", "本讨论不允许学生发言", status_code=403)


def _check_body(body: str, attachment_ids: list[int]) -> str:
    text = body.strip()
    if not text and not attachment_ids:
        raise ApiError("empty_body", "消息内容不能为空", fields={"body": ["消息内容不能为空"]})
    if len(text) > MAX_BODY:
        raise ApiError("body_too_long", f"消息内容不能超过 {MAX_BODY} 字", fields={"body": ["内容过长"]})
    return text


def _same_content(message: Message, body: str, attachment_ids: list[int], reply_to: int | None) -> bool:
    typed = message.original_body or message.body
    return (
        typed == body
        and list(message.attachment_ids or []) == attachment_ids
        and message.reply_to_id == reply_to
    )


def message_send(
    *,
    member: Member,
    body: str,
    client_id: str,
    attachment_ids: list[int] | None = None,
    reply_to: int | None = None,
) -> tuple[Message, bool]:
    """Post a message as `member`. Idempotent by `client_id`: the same content again
    returns the first message (created=False); other content under it is a 409."""
    attachment_ids = list(dict.fromkeys(int(i) for i in attachment_ids or []))
    text = _check_body(body, attachment_ids)
    existing = Message.objects.filter(
        conversation_id=member.conversation_id, sender_id=member.user_id, client_id=client_id
    ).first()
    if existing is not None:
        if not _same_content(existing, text, attachment_ids, reply_to):
            raise ApiError("client_id_reused", "该 client_id 已用于内容不同的消息", status_code=409)
        return existing, False
    now = timezone.now()
    _check_can_post(member, now)
    try:
        with transaction.atomic():
            message = _store(
                member=member,
                text=text,
                client_id=client_id,
                attachment_ids=attachment_ids,
                reply_to=reply_to,
            )
    except IntegrityError:
        # The same client_id raced in from another request: answer like a retry.
        existing = Message.objects.get(
            conversation_id=member.conversation_id, sender_id=member.user_id, client_id=client_id
        )
        if not _same_content(existing, text, attachment_ids, reply_to):
            raise ApiError("client_id_reused", "该 client_id 已用于内容不同的消息", status_code=409) from None
        return existing, False
    return message, True


def _store(
    *, member: Member, text: str, client_id: str, attachment_ids: list[int], reply_to: int | None
) -> Message:
    conversation = member.conversation
    user = member.user
    if attachment_ids:
        files_claim(ids=attachment_ids, owner=user, allowed_kinds=ATTACHMENT_KINDS)
    if reply_to is not None:
        ok = Message.objects.filter(
            pk=reply_to, conversation=conversation, status=Message.Status.VISIBLE
        ).exists()
        if not ok:
            raise ApiError("unknown_reply_to", "引用的消息不存在", fields={"reply_to": ["引用的消息不存在"]})
    verdict = moderate_text(
        text,
        words=words_for_school(school_id=conversation.school_id),
        mask_numbers=member.role == Member.Role.STUDENT,
    )
    message = Message.objects.create(
        conversation=conversation,
        sender=user,
        sender_name=member.display_name,
        body=verdict.body,
        original_body=text if verdict.body != text or verdict.held else "",
        attachment_ids=attachment_ids,
        reply_to_id=reply_to,
        client_id=client_id,
        status=Message.Status.HELD if verdict.held else Message.Status.VISIBLE,
        moderation=verdict.hits,
    )
    if verdict.held:
        Report.objects.create(message=message, reporter=None, reason="敏感词拦截")
        audit_record(action="messaging.message_hold", actor=user, obj=message, detail={"hits": verdict.hits})
        send_event_on_commit([user.pk], MESSAGE_CREATED, _event_data(message, user.pk))
        return message
    if verdict.hits:
        audit_record(action="messaging.message_mask", actor=user, obj=message, detail={"hits": verdict.hits})
    Member.objects.filter(pk=member.pk, last_read_id__lt=message.pk).update(last_read_id=message.pk)
    message_announce(message=message, conversation=conversation, sender_member=member)
    return message


def _event_data(message: Message, viewer_id: int) -> dict[str, Any]:
    return {
        "conversation_id": message.conversation_id,
        "message": message_rows(messages=[message], viewer_id=viewer_id)[0],
    }


def message_announce(*, message: Message, conversation: Conversation, sender_member: Member | None) -> None:
    """Tell the members about a visible message: realtime to all, push to the others
    (the delivery topic lets them mute the chat), SMS of a teacher's direct answer to a
    guardian without the app, and office-hours handling for guardians' direct messages."""
    Conversation.objects.filter(pk=conversation.pk, last_message_id__lt=message.pk).update(
        last_message_id=message.pk
    )
    data = _event_data(message, message.sender_id or 0)
    # People who joined the class since the topic opened hear about this message too.
    discussion_members_sync(conversation=conversation)
    others = list(Member.objects.filter(conversation=conversation).exclude(user_id=message.sender_id or 0))
    if message.sender_id:
        send_event_on_commit([message.sender_id], MESSAGE_CREATED, data)
    held_teachers: list[Member] = []
    if (
        conversation.kind == Conversation.Kind.DIRECT
        and sender_member is not None
        and sender_member.role == Member.Role.GUARDIAN
    ):
        held_teachers = _office_hours_hold(conversation=conversation, others=others, message=message)
    held_ids = {m.user_id for m in held_teachers}
    if held_ids:
        send_event_on_commit(sorted(held_ids), MESSAGE_CREATED, data)
    recipients = [m.user_id for m in others if m.user_id not in held_ids]
    if not recipients:
        return
    sms = None
    if (
        conversation.kind == Conversation.Kind.DIRECT
        and sender_member is not None
        and sender_member.role == Member.Role.TEACHER
        and message.body
    ):
        sms = SmsContent(
            template="chat_reply",
            params={
                "teacher": message.sender_name.removesuffix("老师")[:10],
                "content": sms_content(message.body),
            },
            sender_id=message.sender_id,
        )
    title = conversation.title or message.sender_name
    preview = message.body[:60] if message.body else "[附件]"
    notify(
        recipients,
        Event(MESSAGE_CREATED, data, SOURCE_TYPE, message.pk),
        school_id=conversation.school_id,
        push=PushContent(
            title=title,
            body=f"{message.sender_name}：{preview}",
            data={"conversation_id": str(conversation.pk), "message_id": str(message.pk)},
        ),
        sms=sms,
        topic=topic(conversation.pk),
    )


def _office_hours_hold(*, conversation: Conversation, others: list[Member], message: Message) -> list[Member]:
    """Teachers outside office hours: no push now (it is due when hours start) and,
    once per chat per off-hours window, an automatic reply to the guardian."""
    now = timezone.now()
    held: list[Member] = []
    for teacher in (m for m in others if m.role == Member.Role.TEACHER):
        hours = office_hours_get(teacher_id=teacher.user_id)
        if office_hours.in_office(hours, now):
            continue
        start = office_hours.next_start(hours, now)
        held.append(teacher)
        if start is not None and (teacher.push_due_at is None or teacher.push_due_at > start):
            Member.objects.filter(pk=teacher.pk).update(push_due_at=start)
        window = start.isoformat() if start else "none"
        claimed = (
            Conversation.objects.filter(pk=conversation.pk)
            .exclude(auto_reply_window=window)
            .update(auto_reply_window=window)
        )
        if claimed:
            reply = Message.objects.create(
                conversation=conversation,
                sender=None,
                sender_name=SYSTEM_NAME,
                is_system=True,
                body=office_hours.auto_reply_text(hours),
                reply_to=message,
            )
            Conversation.objects.filter(pk=conversation.pk, last_message_id__lt=reply.pk).update(
                last_message_id=reply.pk
            )
            members = [m.user_id for m in others] + [message.sender_id]
            send_event_on_commit([u for u in members if u], MESSAGE_CREATED, _event_data(reply, 0))
    return held


@transaction.atomic
def message_delete(*, user: Any, message: Message, member: Member) -> Message:
    """The sender within 2 minutes, or a moderator, deletes a message: members see it
    as deleted, without its body."""
    if message.deleted_at is not None:
        return message
    moderator = is_moderator(user=user, member=member, conversation=message.conversation)
    own_recent = message.sender_id == user.pk and timezone.now() - message.created_at <= SENDER_DELETE_WINDOW
    if not (moderator or own_recent):
        raise ApiError("cannot_delete", "只能在发送后 2 分钟内删除自己的消息", status_code=403)
    message_remove(message=message, actor=user)
    return message


def message_remove(*, message: Message, actor: Any) -> None:
    message.deleted_at = timezone.now()
    message.deleted_by = actor
    message.save(update_fields=["deleted_at", "deleted_by"])
    Conversation.objects.filter(pk=message.conversation_id, pinned_message_id=message.pk).update(
        pinned_message=None
    )
    audit_record(
        action="messaging.message_delete",
        actor=actor,
        obj=message,
        detail={"conversation_id": message.conversation_id, "by_sender": message.sender_id == actor.pk},
    )
    if message.status == Message.Status.VISIBLE:
        audience = list(
            Member.objects.filter(conversation_id=message.conversation_id).values_list("user_id", flat=True)
        )
    else:
        audience = [message.sender_id] if message.sender_id else []
    send_event_on_commit(
        audience, MESSAGE_DELETED, {"conversation_id": message.conversation_id, "message_id": message.pk}
    )


def message_release(*, message: Message) -> None:
    """A held message a moderator kept: it becomes visible and is announced."""
    Message.objects.filter(pk=message.pk).update(status=Message.Status.VISIBLE)
    message.status = Message.Status.VISIBLE
    sender_member = Member.objects.filter(
        conversation_id=message.conversation_id, user_id=message.sender_id or 0
    ).first()
    message_announce(message=message, conversation=message.conversation, sender_member=sender_member)


__all__ = ["message_announce", "message_delete", "message_release", "message_remove", "message_send"]
