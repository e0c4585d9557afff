"""A member silencing a conversation on their phone (push and SMS); the messages still
arrive in the app. Urgent items ignore it (delivery rules)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from backend.delivery.services import delivery_mute, delivery_unmute
from backend.messaging.models import Member


def conversation_topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def conversation_notifications_set(
    *, member: Member, muted: bool, minutes: int | None = None
) -> datetime | None:
    """Mute (for `minutes`, or until turned back on) or unmute the member's notifications
    for the conversation. Returns when the mute ends (None: not muted, or no end)."""
    topic = conversation_topic(member.conversation_id)
    if not muted:
        delivery_unmute(user=member.user, topic=topic)
        return None
    until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    delivery_mute(user=member.user, topic=topic, until=until)
    return until
