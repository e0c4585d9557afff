"""notify() end to end on the demo class: who gets a socket event, a push, an SMS;
quiet hours; escalation of unread items; reminders; idempotency; query counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.db import transaction

from backend.accounts.models import Device
from backend.delivery.models import Delivery, PushAttempt, PushState, SmsState
from backend.delivery.push import push_backend
from backend.delivery.push.base import PushOutcome
from backend.delivery.rules import SHANGHAI
from backend.delivery.selectors import delivery_states
from backend.delivery.services import (
    Event,
    PushContent,
    SmsContent,
    delivery_acknowledge,
    delivery_mute,
    delivery_preferences_set,
    delivery_remind,
    notify,
)
from backend.delivery.tasks import delivery_dispatch, delivery_tick
from backend.realtime.models import UserEvent
from backend.realtime.presence import presence_store
from backend.realtime.registry import register_event
from backend.schools.models import Org
from backend.sms.outbox import sent_messages

pytestmark = pytest.mark.django_db(transaction=True)

# The delivery pipeline is tested with an event of its own, not another app's.
ITEM = "test.delivery_item_created"


@pytest.fixture(autouse=True)
def _item_event():
    register_event(
        ITEM,
        schema={
            "type": "object",
            "required": ["item_id", "title"],
            "properties": {"item_id": {"type": "integer"}, "title": {"type": "string"}},
            "additionalProperties": False,
        },
        description="An item for the delivery tests.",
        audience="test recipients",
    )


DAYTIME = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
NIGHT = datetime(2026, 11, 23, 22, 30, tzinfo=SHANGHAI)


@pytest.fixture
def guardians(demo):
    return [demo.user(f"139000000{i:02d}") for i in range(1, 31)]


@pytest.fixture
def school(demo):
    return Org.objects.get(name="洛阳市西工区示范小学")


def event(source_id: int = 1) -> Event:
    return Event(
        type=ITEM,
        data={"item_id": source_id, "title": "春游通知"},
        source_type="item",
        source_id=source_id,
    )


def tell(
    recipients, school, *, source_id: int = 1, urgent: bool = False, attention: bool = False, topic: str = ""
):
    with transaction.atomic():
        return notify(
            recipients,
            event(source_id),
            urgency="urgent" if urgent else "normal",
            school_id=school.pk,
            push=PushContent(title="三年级(2)班通知", body="春游通知", data={"notice_id": str(source_id)}),
            sms=SmsContent(template="notice", params={"class": "三年级(2)班", "title": "春游通知"}),
            needs_attention=attention,
            topic=topic,
        )


def pushed_tokens() -> list[str]:
    return [m.token for m in push_backend().outbox]


def texted() -> list[str]:
    return [m.phone for m in sent_messages()]


def online(user) -> None:
    async_to_sync(presence_store().join)(user.pk, f"test-{user.pk}")


def offline(user) -> None:
    async_to_sync(presence_store().leave)(user.pk, f"test-{user.pk}")


@time_machine.travel(DAYTIME, tick=False)
def test_each_recipient_gets_the_right_channels(guardians, school):
    online(guardians[0])
    try:
        tell(guardians, school)
    finally:
        offline(guardians[0])

    # everyone has the realtime event in their log
    assert UserEvent.objects.filter(type=ITEM).count() == 30
    # 02–20 have the app and no socket: pushed; 01 was online: no push
    assert sorted(pushed_tokens()) == sorted(f"demo-fcm-token-{i:02d}" for i in range(2, 21))
    # 21–30 never logged in: SMS
    assert sorted(texted()) == sorted(g.phone for g in guardians[20:])
    states = delivery_states(
        source_type="item", source_id=1, event_type=ITEM, user_ids=[g.pk for g in guardians]
    )
    assert states[guardians[0].pk].channels == ["websocket"]
    assert states[guardians[1].pk].channels == ["websocket", "push"]
    assert states[guardians[25].pk].channels == ["websocket", "sms"]
    assert states[guardians[25].pk].sms_state == SmsState.QUEUED


@time_machine.travel(DAYTIME, tick=False)
def test_calling_twice_and_running_tasks_twice_sends_once(guardians, school):
    dispatch = tell(guardians, school)
    tell(guardians, school)
    delivery_dispatch(dispatch.pk)
    delivery_dispatch(dispatch.pk)
    assert len(pushed_tokens()) == 20
    assert len(texted()) == 10
    assert UserEvent.objects.filter(type=ITEM).count() == 30
    assert Delivery.objects.filter(dispatch=dispatch).count() == 30


@time_machine.travel(DAYTIME, tick=False)
def test_adding_recipients_later_tells_only_the_new_ones(guardians, school):
    tell(guardians[:5], school)
    tell(guardians[:10], school)
    assert len(pushed_tokens()) == 10
    assert UserEvent.objects.filter(type=ITEM).count() == 10


def test_quiet_hours_hold_until_morning_then_send(guardians, school):
    with time_machine.travel(NIGHT, tick=False):
        tell(guardians, school)
        assert pushed_tokens() == []
        assert texted() == []
        assert Delivery.objects.filter(push_state=PushState.HELD).count() == 20
        assert Delivery.objects.filter(sms_state=SmsState.HELD).count() == 10
        delivery_tick()
        assert pushed_tokens() == []
    with time_machine.travel(datetime(2026, 11, 24, 7, 1, tzinfo=SHANGHAI), tick=False):
        delivery_tick()
        delivery_tick()
    assert len(pushed_tokens()) == 20
    assert len(texted()) == 10


def test_urgent_goes_at_night_and_to_online_app_users(guardians, school):
    online(guardians[0])
    try:
        with time_machine.travel(NIGHT, tick=False):
            tell(guardians, school, urgent=True)
    finally:
        offline(guardians[0])
    assert len(pushed_tokens()) == 20
    assert len(texted()) == 10


def test_unread_items_escalate_push_then_sms_and_stop_when_read(guardians, school):
    with time_machine.travel(DAYTIME, tick=False) as clock:
        tell(guardians, school, attention=True)
        push_backend().outbox.clear()
        sms_first = len(texted())
        delivery_acknowledge(source_type="item", source_id=1, user_ids=[guardians[1].pk])

        clock.shift(timedelta(minutes=29))
        delivery_tick()
        assert pushed_tokens() == []

        clock.shift(timedelta(minutes=2))
        delivery_tick()
        # step 1: a push to the app users who have not read it (02 has)
        assert sorted(pushed_tokens()) == sorted(f"demo-fcm-token-{i:02d}" for i in range(1, 21) if i != 2)
        # those without the app get an SMS reminder at once
        assert len(texted()) == sms_first + 10

        clock.shift(timedelta(minutes=31))
        delivery_tick()
        # step 2: SMS to the app users who still have not read it
        assert len(texted()) == sms_first + 10 + 19
        clock.shift(timedelta(hours=3))
        delivery_tick()
        assert len(texted()) == sms_first + 29
    state = delivery_states(source_type="item", source_id=1, event_type=ITEM, user_ids=[guardians[0].pk])
    assert state[guardians[0].pk].channels == ["websocket", "push", "sms"]


@time_machine.travel(DAYTIME, tick=False)
def test_reminder_auto_push_for_app_users_sms_for_others(guardians, school):
    tell(guardians, school)
    push_backend().outbox.clear()
    before = len(texted())
    with transaction.atomic():
        reminded = delivery_remind(
            source_type="item",
            source_id=1,
            event_type=ITEM,
            user_ids=[g.pk for g in guardians[:3]] + [guardians[25].pk],
            channel="auto",
        )
    assert reminded == 4
    assert sorted(pushed_tokens()) == ["demo-fcm-token-01", "demo-fcm-token-02", "demo-fcm-token-03"]
    assert texted()[before:] == [guardians[25].phone]
    assert push_backend().outbox[0].title.startswith("提醒")


@time_machine.travel(DAYTIME, tick=False)
def test_unregistered_token_is_deleted_and_retry_recovers(guardians, school):
    backend = push_backend()
    backend.script("demo-fcm-token-02", [PushOutcome.UNREGISTERED])
    backend.script("demo-fcm-token-03", [PushOutcome.RETRY, PushOutcome.SENT], retry_after=1)
    tell(guardians, school)
    assert not Device.objects.filter(token="demo-fcm-token-02").exists()
    assert Device.objects.filter(token="demo-fcm-token-04").exists()
    attempt = PushAttempt.objects.get(token="demo-fcm-token-03")
    assert attempt.outcome == PushOutcome.SENT
    assert attempt.attempts == 2
    assert pushed_tokens().count("demo-fcm-token-03") == 1


@time_machine.travel(DAYTIME, tick=False)
def test_preferences_and_mutes(guardians, school):
    delivery_preferences_set(user=guardians[2], prefer_sms=True)
    delivery_preferences_set(user=guardians[25], sms_enabled=False)
    delivery_mute(user=guardians[3], topic="conversation:9", until=None)
    tell(guardians, school, topic="conversation:9")
    assert guardians[2].phone in texted()  # prefers SMS: gets both
    assert "demo-fcm-token-03" in pushed_tokens()
    assert guardians[25].phone not in texted()  # SMS off
    assert "demo-fcm-token-04" not in pushed_tokens()  # muted the topic


@time_machine.travel(DAYTIME, tick=False)
def test_queries_grow_per_batch_not_per_recipient(django_assert_max_num_queries, demo, school):
    """500 recipients without the app (all by SMS, the most expensive path): bulk writes
    split only by the database's parameter limit and by provider batches of 100, never
    one statement per recipient."""
    from collections import Counter

    from backend.accounts.models import User

    users = User.objects.bulk_create([User(phone=f"1360000{i:04d}", name=f"家长{i}") for i in range(500)])
    with django_assert_max_num_queries(80) as small:
        tell(users[:50], school, source_id=7)
    with django_assert_max_num_queries(160) as large:
        tell(users, school, source_id=8)
    growth = len(large.captured_queries) - len(small.captured_queries)
    assert growth < 450 / 5, f"{growth} more queries for 450 more recipients"
    repeated = Counter(q["sql"] for q in large.captured_queries).most_common(1)[0][1]
    assert repeated < 50
    assert len(texted()) == 550


@time_machine.travel(DAYTIME, tick=False)
def test_five_thousand_app_users_cost_batches_not_recipients(django_assert_max_num_queries, demo, school):
    """50 vs 5,000 offline app users, one push each: statements grow with batches of
    1,000 deliveries (and the database's parameter limit), never per recipient."""
    from collections import Counter

    from django.utils import timezone

    from backend.accounts.models import User

    now = timezone.now()
    users = User.objects.bulk_create(
        [User(phone=f"1350{i:07d}", name=f"家长{i}", first_app_login_at=now) for i in range(5000)]
    )
    Device.objects.bulk_create(
        [Device(user=u, platform="android", token=f"bench-token-{u.pk}") for u in users]
    )

    def tell_by_push(recipients, source_id):
        with transaction.atomic():
            notify(
                recipients,
                event(source_id),
                school_id=school.pk,
                push=PushContent(title="通知", body="春游通知", data={"item_id": str(source_id)}),
            )

    with django_assert_max_num_queries(60) as small:
        tell_by_push(users[:50], 21)
    with django_assert_max_num_queries(400) as large:
        tell_by_push(users, 22)
    growth = len(large.captured_queries) - len(small.captured_queries)
    assert growth < 4950 / 20, f"{growth} more queries for 4,950 more recipients"
    assert Counter(q["sql"] for q in large.captured_queries).most_common(1)[0][1] < 100
    assert len(pushed_tokens()) == 5050
    assert UserEvent.objects.filter(type=ITEM, user_id__in=[u.pk for u in users]).count() == 5050


@time_machine.travel(DAYTIME, tick=False)
def test_rows_carry_the_shared_state_and_each_recipients_own_sms_slots(guardians, school, monkeypatch):
    """The columns every new row shares are written once per statement; the per-user SMS
    slots land on their own row, and a recipient without any gets SQL NULL. (The rows as
    notify() writes them: the dispatch task, which moves their states on, is held.)"""
    from backend.delivery import services

    monkeypatch.setattr(services.delivery_dispatch, "delay", lambda *args: None)
    first, second, third = guardians[0], guardians[1], guardians[2]
    sms = SmsContent(
        template="notice",
        params={"title": "春游通知"},
        params_by_user={first.pk: {"class": "三年级(2)班"}, second.pk: {"class": "三年级(1)班、三年级(2)班"}},
    )
    with transaction.atomic():
        dispatch = notify(
            [first, second], event(31), school_id=school.pk, push=None, sms=sms, needs_attention=True
        )
    with transaction.atomic():  # a retry with one more recipient writes only that row
        notify(
            [first, second, third], event(31), school_id=school.pk, push=None, sms=sms, needs_attention=True
        )

    rows = {d.recipient_id: d for d in Delivery.objects.filter(dispatch=dispatch)}
    assert set(rows) == {first.pk, second.pk, third.pk}
    assert rows[first.pk].sms_params == {"class": "三年级(2)班"}
    assert rows[second.pk].sms_params == {"class": "三年级(1)班、三年级(2)班"}
    assert rows[third.pk].sms_params is None
    assert Delivery.objects.filter(dispatch=dispatch, sms_params__isnull=True).count() == 1  # SQL NULL
    for row in rows.values():
        assert (row.channels, row.push_state, row.sms_state) == (["websocket"], "none", "pending")
        assert row.escalate_at == DAYTIME + timedelta(minutes=school.escalation_delay_minutes)
    # one event per recipient, the first two were not told twice
    assert UserEvent.objects.filter(type=ITEM, user_id__in=list(rows)).count() == 3


@time_machine.travel(DAYTIME, tick=False)
def test_a_call_without_per_user_slots_writes_null_sms_params(guardians, school, monkeypatch):
    from backend.delivery import services

    monkeypatch.setattr(services.delivery_dispatch, "delay", lambda *args: None)
    with transaction.atomic():
        dispatch = tell(guardians[:3], school, source_id=32)

    rows = list(Delivery.objects.filter(dispatch=dispatch))
    assert len(rows) == 3
    assert all(r.sms_params is None for r in rows)
    assert all((r.push_state, r.sms_state) == (PushState.PENDING, SmsState.PENDING) for r in rows)
    assert all(r.escalate_at is None for r in rows)
