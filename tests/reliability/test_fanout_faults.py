"""Fan-out under faults: a notice to 500 families while a PRIVATE Redis (the channel layer)
is killed with SIGKILL and restarted mid-fan-out → exactly 500 receipts, one event per
family, no duplicates, and every family recovers the event through the REST fallback
(events/?after_seq=). The shared Redis on 6379 is never touched."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.reliability.servers import PrivateRedis

pytestmark = pytest.mark.django_db

FAMILIES = 500


@pytest.fixture
def layer_on(private_redis: PrivateRedis, settings: Any) -> Iterator[PrivateRedis]:
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": private_redis.url, "socket_timeout": None}], "prefix": "rel"},
        }
    }
    channel_layers.backends.clear()
    yield private_redis
    channel_layers.backends.clear()


def test_a_notice_survives_redis_killed_and_restarted_mid_fan_out(
    world: Any,
    layer_on: PrivateRedis,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    client_for: Callable[[Any], Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from channels_redis.core import RedisChannelLayer

    from backend.notices.models import NoticeReceipt
    from backend.realtime.models import UserEvent
    from backend.schools.models import Guardianship
    from tests.notices.conftest import build_class

    settings.NOTICES_FANOUT_CHUNK = 100  # five chunks, five publishes
    big = build_class(
        school=world.schools[0], grade=world.classes[0].grade, name="五百人班", families=FAMILIES,
        teacher=world.teachers[0],
    )  # fmt: skip
    guardians = list(
        Guardianship.objects.filter(student__class_memberships__school_class=big).select_related("guardian")
    )
    assert len(guardians) == FAMILIES

    original = RedisChannelLayer.group_send
    sends = {"n": 0, "ok": 0}

    async def faulty_group_send(self: Any, group: str, message: dict[str, Any]) -> None:
        sends["n"] += 1
        if sends["n"] == 120:
            layer_on.kill()  # mid-fan-out: the second chunk's publish
        if sends["n"] == 260:
            layer_on.start()
        await original(self, group, message)
        sends["ok"] += 1

    monkeypatch.setattr(RedisChannelLayer, "group_send", faulty_group_send)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.teachers[0]).post(
            "/api/v1/notices/",
            {"title": "紧急通知", "body": "明天停课。", "audience": "guardians", "class_ids": [big.pk],
             "sms_fallback": False},
            format="json",
        )  # fmt: skip

    assert response.status_code == 201, response.json()
    notice_id = response.json()["id"]
    assert (layer_on.kills, layer_on.starts) == (1, 2)
    assert 0 < sends["ok"] < sends["n"]  # some sends really failed, some went through
    receipts = NoticeReceipt.objects.filter(notice_id=notice_id)
    assert receipts.count() == FAMILIES
    assert receipts.values("recipient_id").distinct().count() == FAMILIES
    events = UserEvent.objects.filter(type="notice.created", data__notice_id=notice_id)
    assert events.count() == FAMILIES
    assert events.values("user_id").distinct().count() == FAMILIES

    missing = []
    for link in guardians:
        frames = client_for(link.guardian).get("/api/v1/events/?after_seq=0").json()["results"]
        created = [f for f in frames if f["type"] == "notice.created" and f["data"]["notice_id"] == notice_id]
        if len(created) != 1:
            missing.append((link.guardian_id, len(created)))
    assert missing == []


def test_a_notice_created_in_a_transaction_that_rolls_back_queues_nothing(
    world: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Item 5: nothing leaves a rolled-back transaction (no task, event, push or text),
    for a notice published inside the transaction and for one handed to the fan-out
    task. The same calls committed are the control: they do queue all of it."""
    from celery.app.task import Task
    from django.db import transaction

    from backend.delivery.models import Delivery
    from backend.notices.models import Notice, NoticeReceipt
    from backend.notices.services import notice_create
    from backend.realtime.models import UserEvent
    from backend.sms.models import SmsMessage
    from backend.sms.outbox import sent_messages
    from backend.sms.services import sms_account_create, sms_account_top_up
    from tests.notices.conftest import DAYTIME, build_class

    time_machine.move_to(DAYTIME)  # outside quiet hours: texts would go at once
    settings.NOTICES_SYNC_FANOUT_LIMIT = 100
    sms_account_top_up(account=sms_account_create(org=world.schools[0], signature="【一小】"), segments=5_000)
    big = build_class(
        school=world.schools[0],
        grade=world.classes[0].grade,
        name="大班",
        families=150,
        teacher=world.teachers[0],
    )
    queued: list[str] = []
    original = Task.apply_async

    def recording_apply_async(self: Task, *args: Any, **kwargs: Any) -> Any:
        queued.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Task, "apply_async", recording_apply_async)

    class Rollback(Exception):
        pass

    def create(class_id: int) -> Notice:
        return notice_create(
            author=world.teachers[0], title="停课通知", body="明天停课。", audience="guardians",
            class_ids=[class_id], sms_fallback=True,
        )  # fmt: skip

    def create_then_roll_back(class_id: int) -> None:
        with transaction.atomic():
            create(class_id)
            raise Rollback

    for class_id in (world.classes[0].pk, big.pk):  # published in the request / by the task
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Rollback):
            create_then_roll_back(class_id)
        assert callbacks == []
    assert queued == []
    assert (Notice.objects.count(), NoticeReceipt.objects.count(), UserEvent.objects.count()) == (0, 0, 0)
    assert (Delivery.objects.count(), SmsMessage.objects.count(), sent_messages()) == (0, 0, [])

    # control: the same two notices committed queue tasks, events and texts
    for class_id in (world.classes[0].pk, big.pk):
        with django_capture_on_commit_callbacks(execute=True):
            create(class_id)
    assert "backend.notices.tasks.notice_fanout" in queued
    assert "backend.sms.tasks.sms_submit" in queued
    assert NoticeReceipt.objects.count() == 3 + 150
    assert UserEvent.objects.filter(type="notice.created").count() == 3 + 150
    assert SmsMessage.objects.count() == 3 + 150
    assert len(sent_messages()) == 3 + 150


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("families", "sockets"),
    [
        pytest.param(500, 50, id="500-families-50-sockets"),
        pytest.param(5_000, 500, id="5000-families-500-sockets", marks=pytest.mark.slow),
    ],
)
def test_reconnecting_sockets_recover_every_event_after_redis_is_killed_mid_fan_out(
    world: Any,
    layer_on: PrivateRedis,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    client_for: Callable[[Any], Any],
    families: int,
    sockets: int,
) -> None:
    """Item 5 with real sockets: daphne serves the app in its own process on the same
    database and the private Redis; `sockets` app clients (real WebSocket connections,
    reconnecting and resuming from their last seq as the apps do) are connected while a
    notice fans out to `families`; Redis is SIGKILLed mid-fan-out and restarted. Every
    client ends with the notice exactly once, every family has its receipt and event."""
    from channels_redis.core import RedisChannelLayer
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from backend.notices.models import NoticeReceipt
    from backend.realtime.models import UserEvent
    from backend.schools.models import Guardianship
    from tests.notices.conftest import build_class
    from tests.reliability.servers import Daphne, wait_until
    from tests.reliability.ws_fleet import Fleet

    settings.NOTICES_SYNC_FANOUT_LIMIT = families // 10  # the fan-out task, in chunks
    settings.NOTICES_FANOUT_CHUNK = families // 5
    big = build_class(
        school=world.schools[0], grade=world.classes[0].grade, name="大班", families=families,
        teacher=world.teachers[0],
    )  # fmt: skip
    guardians = [
        link.guardian_id
        for link in Guardianship.objects.filter(student__class_memberships__school_class=big).order_by(
            "guardian_id"
        )
    ]
    assert len(guardians) == families
    from backend.accounts.models import User

    connected_users = User.objects.filter(pk__in=guardians[:: families // sockets][:sockets])
    tokens = [(u.pk, str(AccessToken.for_user(u))) for u in connected_users]
    assert len(tokens) == sockets

    server = Daphne({
        "DJANGO_SETTINGS_MODULE": "tests.reliability.process_settings",
        "RELIABILITY_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "RELIABILITY_CHANNEL_LAYER_URL": layer_on.url,
    })  # fmt: skip
    fleet = Fleet(server.ws_url, tokens)
    try:
        server.start()
        fleet.start()
        wait_until(
            lambda: fleet.all_resumed_at_least(1), 30 + sockets / 5, "every client to connect and resume"
        )

        original = RedisChannelLayer.group_send
        sends = {"n": 0, "ok": 0, "failed": 0}
        kill_at = families * 24 // 100

        async def faulty_group_send(self: Any, group: str, message: dict[str, Any]) -> None:
            sends["n"] += 1
            if sends["n"] == kill_at:
                layer_on.kill()  # mid-fan-out: the second chunk's publish
                # Back shortly, whether or not more sends come (chunks are published on a
                # background thread as they commit, and merged when they queue up).
                threading.Timer(0.3, layer_on.start).start()
            try:
                await original(self, group, message)
            except Exception:
                sends["failed"] += 1
                raise
            sends["ok"] += 1

        monkeypatch.setattr(RedisChannelLayer, "group_send", faulty_group_send)
        response = client_for(world.teachers[0]).post(
            "/api/v1/notices/",
            {"title": "紧急通知", "body": "明天停课。", "audience": "guardians", "class_ids": [big.pk],
             "sms_fallback": False},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.json()
        notice_id = response.json()["id"]
        wait_until(lambda: layer_on.starts == 2, 10, "Redis to be restarted")
        assert layer_on.kills == 1
        assert 0 < sends["ok"] < sends["n"]

        def notice_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                f for f in frames if f["type"] == "notice.created" and f["data"]["notice_id"] == notice_id
            ]

        def missing() -> list[Any]:
            return [c for c in fleet.snapshot() if not notice_frames(c.frames)]

        def diagnose() -> str:
            lost = missing()
            return (
                f"{len(lost)} clients to recover the notice, e.g. "
                + "; ".join(
                    f"user {c.user_id} connects={c.connects} resumed={c.resumed} cursor={c.cursor} "
                    f"frames={len(c.frames)} errors={Counter(c.errors)}"
                    for c in lost[:5]
                )
                + f"\n{server.output()[-1500:]}"
            )

        wait_until(lambda: not missing(), 30 + sockets / 5, diagnose)
        clients = fleet.snapshot()
    finally:
        fleet.stop()
        server.stop()

    receipts = NoticeReceipt.objects.filter(notice_id=notice_id)
    assert receipts.count() == families
    assert receipts.values("recipient_id").distinct().count() == families
    events = UserEvent.objects.filter(type="notice.created", data__notice_id=notice_id)
    assert events.count() == families
    assert events.values("user_id").distinct().count() == families
    for client in clients:
        assert len(notice_frames(client.frames)) == 1, client
        seqs = [int(f["seq"]) for f in client.frames]
        assert seqs == sorted(set(seqs)), client  # no event twice, none out of order
    # The kill dropped sockets (their consumers' channel-layer receive failed): those
    # reconnected and resumed; any that stayed up caught up on their heartbeat.
    assert [c for c in clients if c.connects > 1 and c.resumed > 1], Counter(
        e for c in clients for e in c.errors
    )


class _Log:
    """An event log for EventStream: frames 1..n of one user, and what a socket was sent."""

    def __init__(self, n: int) -> None:
        self.frames = [{"type": "notice.created", "seq": s, "data": {}} for s in range(1, n + 1)]
        self.sent: list[int] = []

    async def fetch(self, after: int, before: int | None, limit: int) -> list[dict[str, Any]]:
        return [f for f in self.frames if after < f["seq"] and (before is None or f["seq"] < before)][:limit]

    async def latest(self) -> int:
        return len(self.frames)

    async def send(self, frame: dict[str, Any]) -> None:
        self.sent.append(frame["seq"])


async def test_a_live_event_that_overtakes_the_resume_is_replayed_in_order() -> None:
    """Seen with 500 reconnecting clients: the socket's first live frame was dispatched
    before the client's `resume` frame. The resume still replays everything after the
    client's cursor in order (the app ignores the early frame, as realtime.md says, and
    drops repeats with seq <= cursor), so it applies each event once."""
    from backend.realtime.stream import EventStream

    log = _Log(3)
    stream = EventStream(fetch=log.fetch, latest_seq=log.latest, send=log.send)
    await stream.live(log.frames[2])  # seq 3 arrives live before the resume is read
    assert await stream.resume(0) == 3
    assert log.sent == [3, 1, 2, 3]
    log.frames.append({"type": "notice.created", "seq": 4, "data": {}})
    await stream.live(log.frames[3])
    assert log.sent == [3, 1, 2, 3, 4]


async def test_a_socket_that_missed_a_live_event_catches_up_on_its_heartbeat() -> None:
    """Seen with 500 sockets: a socket that survived a Redis restart lost its group, so
    the notice published meanwhile never came live; the heartbeat's catch-up sends it."""
    from backend.realtime.stream import EventStream

    log = _Log(1)
    stream = EventStream(fetch=log.fetch, latest_seq=log.latest, send=log.send)
    assert await stream.resume(0) == 1
    log.frames.append({"type": "notice.created", "seq": 2, "data": {}})  # published, never came
    await stream.catch_up()
    await stream.catch_up()
    assert log.sent == [1, 2]
