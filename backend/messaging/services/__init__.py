"""Writes of messaging: conversations, messages, moderation, office hours."""

from .conversations import (
    conversation_close,
    conversation_mark_read,
    conversation_mute_member,
    conversation_open_direct,
    conversation_open_discussion,
    conversation_pin,
    discussion_members_sync,
    discussions_join,
    membership_for,
)
from .messages import message_delete, message_send
from .moderation import report_create, report_resolve, school_words_set
from .notifications import conversation_notifications_set
from .office_hours import office_hours_release_due, office_hours_set

__all__ = [
    "conversation_close",
    "conversation_mark_read",
    "conversation_mute_member",
    "conversation_notifications_set",
    "conversation_open_direct",
    "conversation_open_discussion",
    "conversation_pin",
    "discussion_members_sync",
    "discussions_join",
    "membership_for",
    "message_delete",
    "message_send",
    "office_hours_release_due",
    "office_hours_set",
    "report_create",
    "report_resolve",
    "school_words_set",
]
