"""Parents' SMS replies that are not confirmations become messages in their direct
chat with the teacher: the author of the notice they answered, or the teacher whose
chat answer (texted by delivery) they replied to."""

from __future__ import annotations

import hashlib
import logging

from django.contrib.auth import get_user_model

from backend.conventions.errors import ApiError
from backend.notices.selectors import notice_origin
from backend.schools.selectors import guardians_of_classes
from backend.sms.replies import InboundReply

from .models import Conversation, Member, Message
from .services.conversations import conversation_open_direct
from .services.messages import SOURCE_TYPE as MESSAGE_SOURCE
from .services.messages import message_send

logger = logging.getLogger(__name__)


def _conversation_for(reply: InboundReply, guardian_id: int) -> Conversation | None:
    parts = (reply.source or "").split(":")
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    kind, source_id = parts[0], int(parts[1])
    if kind == MESSAGE_SOURCE:
        message = Message.objects.select_related("conversation").filter(pk=source_id).first()
        if message is None or message.conversation.kind != Conversation.Kind.DIRECT:
            return None
        return message.conversation
    if kind != "notice":
        return None
    origin = notice_origin(notice_id=source_id)
    if origin is None or origin.author_id is None:
        return None
    link = (
        guardians_of_classes(class_ids=origin.class_ids)
        .filter(guardian_id=guardian_id)
        .order_by("id")
        .first()
    )
    guardian = get_user_model().objects.filter(pk=guardian_id, is_active=True).first()
    if guardian is None:
        return None
    try:
        conversation, _ = conversation_open_direct(
            user=guardian, user_id=origin.author_id, student_id=link.student_id if link else None
        )
    except ApiError:
        # The author teaches none of the guardian's children (an admin's notice): the
        # reply stays in the SMS inbox for the school.
        return None
    return conversation


def conversation_sms_reply(reply: InboundReply) -> bool:
    """Reply handler for any source ("*"): consumed when it became a chat message."""
    content = reply.content.strip()
    if reply.user_id is None or not content:
        return False
    conversation = _conversation_for(reply, reply.user_id)
    if conversation is None:
        return False
    member = (
        Member.objects.select_related("conversation", "conversation__school", "user")
        .filter(conversation=conversation, user_id=reply.user_id)
        .first()
    )
    if member is None:
        return False
    # A provider that delivers the same reply twice files it once.
    digest = hashlib.sha1(content.encode(), usedforsecurity=False).hexdigest()[:16]
    client_id = f"sms:{int(reply.received_at.timestamp() * 1000)}:{digest}"
    try:
        message_send(member=member, body=content[:2000], client_id=client_id)
    except ApiError as exc:
        logger.info("SMS reply not filed into conversation %s: %s", conversation.pk, exc.code)
        return False
    return True
