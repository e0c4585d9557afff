"""The WebSocket gateway once connected: event frames, resume, bad frames, deactivation,
presence. (The handshake is in test_handshake.py.)"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from backend.realtime import services
from backend.realtime.models import UserEvent
from backend.realtime.selectors import presence_online_user_ids, presence_socket_counts
from backend.realtime.services import realtime_disconnect_user_on_commit, send_event_on_commit

from .conftest import TEST_EVENT, send_committed

pytestmark = pytest.mark.django_db(transaction=True)

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00$")


# Events.


async def test_event_arrives_on_every_socket_of_its_user_only(
    sockets: Any, user: Any, make_user: Any, asend: Any, api: Any
) -> None:
    other = await database_sync_to_async(make_user)()
    phone, tablet, bystander = (
        await sockets.for_user(user),
        await sockets.for_user(user),
        await sockets.for_user(other),
    )
    await asend([user], 1, note="第一条")
    await asend([user], 2)
    first, second = await sockets.frames(phone, 2)
    assert set(first) == {"type", "seq", "ts", "data"}
    assert (first["type"], first["seq"], first["data"]) == (TEST_EVENT, 1, {"n": 1, "note": "第一条"})
    assert (second["seq"], second["data"]) == (2, {"n": 2})
    assert TS.match(first["ts"]), first["ts"]
    assert await sockets.frames(tablet, 2) == [first, second]
    assert await bystander.receive_nothing(timeout=0.1)
    # The live frame is exactly what the log replays.
    api.credentials(HTTP_AUTHORIZATION=sockets.bearer(user)[0][1].decode())
    body = (await database_sync_to_async(api.get)("/api/v1/events/?after_seq=0")).json()
    assert body["results"] == [first, second]


async def test_rolled_back_event_is_neither_sent_nor_stored(sockets: Any, user: Any, asend: Any) -> None:
    ws = await sockets.for_user(user)

    def send_then_fail() -> None:
        with transaction.atomic():
            send_event_on_commit([user], TEST_EVENT, {"n": 99})
            raise RuntimeError("the notice could not be saved")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(send_then_fail)()
    assert await ws.receive_nothing(timeout=0.2)
    assert await database_sync_to_async(UserEvent.objects.count)() == 0
    await asend([user], 1)  # the number was not used up
    assert [f["seq"] for f in await sockets.frames(ws, 1)] == [1]


async def test_resume_replays_what_was_missed_in_order_then_resumed(
    sockets: Any, user: Any, asend: Any
) -> None:
    for n in range(1, 6):
        await asend([user], n)  # while the user had no socket
    ws = await sockets.for_user(user)
    await ws.send_json_to({"type": "resume", "after_seq": 2})
    frames = await sockets.frames(ws, 4)
    assert [(f["type"], f["seq"]) for f in frames] == [
        (TEST_EVENT, 3),
        (TEST_EVENT, 4),
        (TEST_EVENT, 5),
        ("resumed", 5),
    ]
    assert [f["data"]["n"] for f in frames[:3]] == [3, 4, 5]
    # Up to date: nothing to replay.
    await ws.send_json_to({"type": "resume", "after_seq": 5})
    assert await ws.receive_json_from() == {"type": "resumed", "seq": 5}
    # A cursor beyond the log (a restored database) is pulled back to what exists.
    await ws.send_json_to({"type": "resume", "after_seq": 40})
    assert await ws.receive_json_from() == {"type": "resumed", "seq": 5}
    await asend([user], 6)
    assert [f["seq"] for f in await sockets.frames(ws, 1)] == [6]
    assert await ws.receive_nothing(timeout=0.1)


async def test_resume_pages_through_a_large_gap(sockets: Any, user: Any, monkeypatch: Any) -> None:
    from backend.realtime import stream

    monkeypatch.setattr(stream, "REPLAY_PAGE_SIZE", 3)
    for n in range(1, 9):
        await database_sync_to_async(_send)(user, n)
    ws = await sockets.for_user(user)
    await ws.send_json_to({"type": "resume", "after_seq": 0})
    frames = await sockets.frames(ws, 9)
    assert [f["seq"] for f in frames] == [1, 2, 3, 4, 5, 6, 7, 8, 8]
    assert frames[-1]["type"] == "resumed"
    assert await ws.receive_nothing(timeout=0.1)


async def test_live_events_during_and_after_a_replay_are_not_duplicated(
    sockets: Any, user: Any, asend: Any, monkeypatch: Any
) -> None:
    from backend.realtime import selectors

    for n in (1, 2, 3):
        await asend([user], n)
    ws = await sockets.for_user(user)
    real_page = selectors.user_event_frames_after
    calls = []

    def page_while_events_arrive(**kwargs: Any) -> Any:
        # The resume's first page, read in the same hand-off as the latest seq (3).
        calls.append(kwargs)
        if len(calls) == 1:
            send_committed([user], 4)  # committed before the page is read: replayed, live copy dropped
            frames = real_page(**kwargs)
            send_committed([user], 5)  # committed after: arrives live after `resumed`
            return frames
        return real_page(**kwargs)

    monkeypatch.setattr(selectors, "user_event_frames_after", page_while_events_arrive)
    await ws.send_json_to({"type": "resume", "after_seq": 0})
    frames = await sockets.frames(ws, 6)
    assert [(f["type"], f["seq"]) for f in frames] == [
        (TEST_EVENT, 1),
        (TEST_EVENT, 2),
        (TEST_EVENT, 3),
        (TEST_EVENT, 4),
        ("resumed", 4),
        (TEST_EVENT, 5),
    ]
    assert len(calls) == 1
    assert await ws.receive_nothing(timeout=0.2)


async def test_a_live_event_after_a_dropped_one_fills_the_gap_from_the_log(
    sockets: Any, user: Any, asend: Any, monkeypatch: Any
) -> None:
    ws = await sockets.for_user(user)
    await asend([user], 1)
    assert [f["seq"] for f in await sockets.frames(ws, 1)] == [1]
    # The channel layer drops messages by design; simulate it for events 2 and 3.
    with monkeypatch.context() as patch:
        patch.setattr(services, "publish_on_commit", lambda messages: None)
        await asend([user], 2)
        await asend([user], 3)
    assert await ws.receive_nothing(timeout=0.1)
    await asend([user], 4)
    frames = await sockets.frames(ws, 3)
    assert [(f["seq"], f["data"]["n"]) for f in frames] == [(2, 2), (3, 3), (4, 4)]
    assert await ws.receive_nothing(timeout=0.1)


# Bad frames.


BAD_FRAMES = [
    ("not json", "invalid_json"),
    ("{'type': 'ping'}", "invalid_json"),
    ("[1, 2]", "invalid_frame"),
    ('"ping"', "invalid_frame"),
    ("42", "invalid_frame"),
    ('{"after_seq": 1}', "invalid_frame"),
    ('{"type": 5}', "invalid_frame"),
    ('{"type": "subscribe"}', "unknown_type"),
    ('{"type": "realtime.disconnect"}', "unknown_type"),
    ('{"type": "resume"}', "invalid_after_seq"),
    ('{"type": "resume", "after_seq": "3"}', "invalid_after_seq"),
    ('{"type": "resume", "after_seq": -1}', "invalid_after_seq"),
    ('{"type": "resume", "after_seq": true}', "invalid_after_seq"),
    ('{"type": "resume", "after_seq": 1.5}', "invalid_after_seq"),
    ('{"type": "resume", "after_seq": NaN}', "invalid_after_seq"),
    ('{"type": "resume", "after_seq": 99999999999999999999999}', "invalid_after_seq"),
    ('{"type": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}", "frame_too_deep"),
    ("[" * 60000, "frame_too_deep"),
]


async def test_bad_frames_get_error_frames_and_the_socket_keeps_working(
    sockets: Any, user: Any, asend: Any
) -> None:
    ws = await sockets.for_user(user)
    for text, code in BAD_FRAMES:
        await ws.send_to(text_data=text)
        error = await ws.receive_json_from()
        assert (error["type"], error["code"]) == ("error", code), text[:60]
        assert re.search(r"[\u4e00-\u9fff]", error["message"])  # Chinese for the user
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    await asend([user], 1)
    assert [f["seq"] for f in await sockets.frames(ws, 1)] == [1]


async def test_binary_and_oversized_frames_close_the_socket(sockets: Any, user: Any) -> None:
    binary = await sockets.for_user(user)
    await binary.send_to(bytes_data=b"\x00\x01")
    assert await sockets.closed_with(binary) == 1003
    big = await sockets.for_user(user)
    await big.send_to(
        text_data=json.dumps({"type": "ping", "pad": "家" * 22000}, ensure_ascii=False)
    )  # 66 KB
    assert await sockets.closed_with(big) == 1009
    assert presence_online_user_ids([user.pk]) == set()


# Deactivation and presence.


async def test_deactivation_closes_every_socket_of_the_user_with_4401_after_commit(
    sockets: Any, user: Any, make_user: Any
) -> None:
    other = await database_sync_to_async(make_user)()
    phone, tablet, bystander = (
        await sockets.for_user(user),
        await sockets.for_user(user),
        await sockets.for_user(other),
    )

    def deactivate(*, commit: bool) -> None:
        with transaction.atomic():
            type(user).objects.filter(pk=user.pk).update(is_active=False)
            realtime_disconnect_user_on_commit(user.pk)
            if not commit:
                raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(deactivate)(commit=False)
    assert await phone.receive_nothing(timeout=0.2)

    await database_sync_to_async(deactivate)(commit=True)
    assert await sockets.closed_with(phone) == 4401
    assert await sockets.closed_with(tablet) == 4401
    assert presence_socket_counts([user.pk, other.pk]) == {other.pk: 1}
    await bystander.send_json_to({"type": "ping"})
    assert await bystander.receive_json_from() == {"type": "pong"}


async def test_presence_counts_open_sockets_and_not_refused_ones(
    sockets: Any, user: Any, make_user: Any
) -> None:
    inactive = await database_sync_to_async(make_user)(is_active=False)
    refused = await sockets.open(headers=sockets.bearer(inactive))
    assert await sockets.closed_with(refused) == 4401
    phone = await sockets.for_user(user)
    tablet = await sockets.for_user(user)
    assert presence_socket_counts([user.pk, inactive.pk]) == {user.pk: 2}
    assert presence_online_user_ids([user.pk, inactive.pk]) == {user.pk}
    await phone.disconnect()
    assert presence_socket_counts([user.pk]) == {user.pk: 1}
    await tablet.disconnect()
    assert presence_online_user_ids([user.pk, inactive.pk]) == set()


def _send(user: Any, n: int) -> None:
    with transaction.atomic():
        send_event_on_commit([user], TEST_EVENT, {"n": n})
