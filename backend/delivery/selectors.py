"""Reads about deliveries: what reached whom through which channel."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .models import Delivery


@dataclass(frozen=True)
class DeliveryState:
    channels: list[str]
    push_state: str
    sms_state: str
    sms_note: str
    escalation_step: int
    reminders: int


def delivery_states(
    *, source_type: str, source_id: int, event_type: str, user_ids: Iterable[int]
) -> dict[int, DeliveryState]:
    """Per recipient: the channels used so far and the push/SMS state. One query."""
    rows = Delivery.objects.filter(
        dispatch__source_type=source_type,
        dispatch__source_id=source_id,
        dispatch__event_type=event_type,
        recipient_id__in=list(user_ids),
    ).values_list(
        "recipient_id", "channels", "push_state", "sms_state", "sms_note", "escalation_step", "reminders"
    )
    return {
        uid: DeliveryState(list(channels), push, sms, note, step, reminders)
        for uid, channels, push, sms, note, step, reminders in rows
    }
