"""notify(): the one door every app uses to tell people things.

It writes, inside the caller's transaction, one `Delivery` per new recipient and the
realtime event (the per-user event log); after commit a Celery task decides push and
SMS per recipient (see rules.plan_channels) and sends them. Calling it twice for the
same source, event and recipient sends nothing twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.conventions.bulk import bulk_insert, insert_unless_exists
from backend.realtime.services import send_event_on_commit

from .models import Delivery, DeliveryPreference, Dispatch, Mute, PushState, SmsState, Urgency
from .tasks import delivery_dispatch, delivery_send_reminder

# Recipients per statement (on PostgreSQL their ids travel as one array parameter).
CHUNK = 5000
# A dispatch is unique by what it is about (models.Dispatch, dispatch_unique_source_event).
DISPATCH_KEY = ("source_type", "source_id", "event_type")


@dataclass(frozen=True)
class Event:
    """A realtime event about a source object (the notice, the message, …)."""

    type: str
    data: Mapping[str, Any]
    source_type: str
    source_id: int


@dataclass(frozen=True)
class PushContent:
    title: str
    body: str
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SmsContent:
    """An SMS version of the item: a platform template (see backend.sms) and its slots.

    `params_by_user` overrides slots per recipient (a guardian's child's class). The
    school's SMS account pays; `sender_id` names the teacher whose allowance is drawn."""

    template: str
    params: Mapping[str, str]
    params_by_user: Mapping[int, Mapping[str, str]] | None = None
    sender_id: int | None = None


def _ids(recipients: Iterable[Any]) -> list[int]:
    return list(dict.fromkeys(int(getattr(r, "pk", r)) for r in recipients))


def notify(
    recipients: Iterable[Any],
    event: Event,
    *,
    urgency: str = Urgency.NORMAL,
    school_id: int | None = None,
    push: PushContent | None = None,
    sms: SmsContent | None = None,
    needs_attention: bool = False,
    topic: str = "",
) -> Dispatch:
    """Tell `recipients` about `event` on every channel that suits each of them.

    - the realtime event always (written to each recipient's event log now);
    - push (when `push` is given) to app users without an open socket, or to every app
      user when urgent; quiet hours of `school_id` hold non-urgent pushes;
    - SMS (when `sms` is given) to people without the app or who prefer SMS;
    - `needs_attention`: until delivery_acknowledge() is called for a recipient, the
      item escalates after the school's delay: push, then SMS.
    Constant queries per chunk of 5,000 recipients; safe to call twice."""
    ids = _ids(recipients)
    # savepoint=False: no SAVEPOINT/RELEASE round trips inside the caller's transaction;
    # an error here marks that transaction for rollback (nothing half-written survives).
    with transaction.atomic(savepoint=False):
        dispatch = Dispatch(
            source_type=event.source_type,
            source_id=event.source_id,
            event_type=event.type,
            school_id=school_id,
            urgency=urgency,
            needs_attention=needs_attention,
            topic=topic,
            push_title=push.title[:100] if push else "",
            push_body=push.body[:200] if push else "",
            push_data=dict(push.data) if push else {},
            sms_template=sms.template if sms else "",
            sms_params=dict(sms.params) if sms else {},
            sms_sender_id=sms.sender_id if sms else None,
        )
        first_call = insert_unless_exists(dispatch, unique=DISPATCH_KEY)
        if not first_call:
            # Serialise concurrent notify() calls for the same item: the second sees the
            # first's rows and adds only recipients that are really new. (A dispatch this
            # call has just inserted is ours alone and has no rows yet: a concurrent call
            # waits on its unique key until we commit, then finds it here.)
            dispatch = Dispatch.objects.select_for_update().get(
                source_type=event.source_type, source_id=event.source_id, event_type=event.type
            )
        escalate_at = _escalation_time(dispatch) if needs_attention else None
        created = 0
        by_user = sms.params_by_user if sms and sms.params_by_user else {}
        # What every new row of this call has in common, prepared once per statement.
        constants: dict[str, Any] = {
            "dispatch_id": dispatch.pk,
            "channels": ["websocket"],
            "push_state": PushState.PENDING if push else PushState.NONE,
            "sms_state": SmsState.PENDING if sms else SmsState.NONE,
            "escalate_at": escalate_at,
        }
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            existing = (
                set()
                if first_call
                else set(
                    Delivery.objects.filter(dispatch=dispatch, recipient_id__any=chunk).values_list(
                        "recipient_id", flat=True
                    )
                )
            )
            new = [uid for uid in chunk if uid not in existing] if existing else chunk
            if not new:
                continue
            # New rows only (the dispatch row is locked and `existing` was read under it).
            if by_user:
                bulk_insert(
                    Delivery,
                    ("recipient_id", "sms_params"),
                    ((uid, _params(by_user, uid)) for uid in new),
                    constants=constants,
                )
            else:
                bulk_insert(Delivery, ("recipient_id",), ((uid,) for uid in new), constants=constants)
            send_event_on_commit(new, event.type, dict(event.data))
            created += len(new)
        if created and (push or sms):
            dispatch_id = dispatch.pk
            transaction.on_commit(lambda: delivery_dispatch.delay(dispatch_id))
    return dispatch


def _params(by_user: Mapping[int, Mapping[str, Any]], uid: int) -> dict[str, Any] | None:
    params = by_user.get(uid)
    return dict(params) if params is not None else None


def _escalation_time(dispatch: Dispatch) -> datetime:
    minutes = dispatch.school.escalation_delay_minutes if dispatch.school else 30
    return timezone.now() + timedelta(minutes=minutes)


def _dispatch_q(source_type: str, source_id: int, event_type: str | None) -> Q:
    q = Q(dispatch__source_type=source_type, dispatch__source_id=source_id)
    if event_type:
        q &= Q(dispatch__event_type=event_type)
    return q


def delivery_acknowledge(*, source_type: str, source_id: int, user_ids: Iterable[int]) -> int:
    """The recipients have seen the item (read a notice): stop escalating it."""
    return Delivery.objects.filter(
        _dispatch_q(source_type, source_id, None),
        recipient_id__in=list(user_ids),
        acknowledged_at__isnull=True,
    ).update(acknowledged_at=timezone.now(), escalate_at=None)


def delivery_remind(
    *, source_type: str, source_id: int, event_type: str, user_ids: Iterable[int], channel: str
) -> int:
    """A sender's explicit reminder to recipients who have not acknowledged yet.

    channel "push": push to app users; "sms": SMS to everyone reachable by SMS; "auto":
    push to app users and SMS to the others. Returns how many recipients were reminded.
    Quiet hours still hold non-urgent reminders until the morning."""
    rows = list(
        Delivery.objects.filter(
            _dispatch_q(source_type, source_id, event_type),
            recipient_id__in=list(user_ids),
            acknowledged_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    if not rows:
        return 0
    transaction.on_commit(lambda: delivery_send_reminder.delay(rows, channel))
    return len(rows)


def delivery_preferences_get(*, user: Any) -> DeliveryPreference:
    pref = DeliveryPreference.objects.filter(user=user).first()
    return pref or DeliveryPreference(user=user)


def delivery_preferences_set(*, user: Any, **changes: Any) -> DeliveryPreference:
    allowed = {"prefer_sms", "sms_enabled", "digest"}
    values = {k: v for k, v in changes.items() if k in allowed}
    pref, _ = DeliveryPreference.objects.update_or_create(user=user, defaults=values)
    return pref


def delivery_mute(*, user: Any, topic: str, until: datetime | None) -> Mute:
    mute, _ = Mute.objects.update_or_create(user=user, topic=topic, defaults={"until": until})
    return mute


def delivery_unmute(*, user: Any, topic: str) -> None:
    Mute.objects.filter(user=user, topic=topic).delete()
