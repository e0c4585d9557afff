"""FanoutRedisChannelLayer.group_send_many: what group_send would deliver, for many
groups in a few pipelined round trips."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.realtime import publishing
from backend.realtime.layers import FanoutRedisChannelLayer

pytestmark = pytest.mark.redis


@pytest.fixture
def layer(settings: Any) -> FanoutRedisChannelLayer:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"{config.get('prefix', 'asgi')}-layers"
    config["capacity"] = 3
    return FanoutRedisChannelLayer(**config)


async def _drain(layer: FanoutRedisChannelLayer, channel: str) -> list[dict[str, Any]]:
    received = []
    while True:
        try:
            received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
        except TimeoutError:
            return received


async def test_every_member_of_every_group_receives_its_message(layer: FanoutRedisChannelLayer) -> None:
    a1, a2, b1 = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("user.1", a1)
    await layer.group_add("user.1", a2)  # two sockets of the same user
    await layer.group_add("user.2", b1)

    over = await layer.group_send_many(
        [
            ("user.1", {"type": "event", "frame": {"seq": 7}}),
            ("user.2", {"type": "event", "frame": {"seq": 3}}),
            ("user.3", {"type": "event", "frame": {"seq": 1}}),  # nobody online
        ]
    )

    assert over == 0
    assert await _drain(layer, a1) == [{"type": "event", "frame": {"seq": 7}}]
    assert await _drain(layer, a2) == [{"type": "event", "frame": {"seq": 7}}]
    assert await _drain(layer, b1) == [{"type": "event", "frame": {"seq": 3}}]
    await layer.flush()


async def test_a_full_channel_drops_like_group_send_and_is_counted(layer: FanoutRedisChannelLayer) -> None:
    channel = await layer.new_channel()
    await layer.group_add("user.9", channel)

    over = await layer.group_send_many([("user.9", {"type": "event", "frame": {"seq": n}}) for n in range(5)])

    assert over == 2  # capacity 3
    assert sorted(m["frame"]["seq"] for m in await _drain(layer, channel)) == [0, 1, 2]
    await layer.flush()


async def test_a_left_member_gets_nothing(layer: FanoutRedisChannelLayer) -> None:
    stays, leaves = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("user.4", stays)
    await layer.group_add("user.4", leaves)
    await layer.group_discard("user.4", leaves)

    await layer.group_send_many([("user.4", {"type": "event", "frame": {"seq": 1}})])

    assert len(await _drain(layer, stays)) == 1
    assert await _drain(layer, leaves) == []
    await layer.flush()


async def test_messages_for_one_socket_keep_their_order(layer: FanoutRedisChannelLayer) -> None:
    channel = await layer.new_channel()
    await layer.group_add("user.5", channel)

    await layer.group_send_many([("user.5", {"type": "event", "frame": {"seq": n}}) for n in (1, 2, 3)])

    assert [m["frame"]["seq"] for m in await _drain(layer, channel)] == [1, 2, 3]
    await layer.flush()


async def test_publish_uses_the_batched_send_for_many_groups(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1,200 sockets of one process share that process's Redis key: the production
    # capacity must hold a whole fan-out burst for them.
    layer = FanoutRedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    channels = [await layer.new_channel() for _ in range(1200)]
    for n, channel in enumerate(channels):
        await layer.group_add(f"user.{n}", channel)
    batches: list[int] = []
    original = FanoutRedisChannelLayer.group_send_many

    async def counted(self: Any, messages: Any) -> int:
        batches.append(len(messages))
        return await original(self, messages)

    monkeypatch.setattr(FanoutRedisChannelLayer, "group_send_many", counted)

    sent, failed = await publishing._send_all(
        layer, [(f"user.{n}", {"type": "event", "frame": {"seq": n}}) for n in range(1200)]
    )

    assert (sent, failed) == (1200, 0)
    assert sorted(batches) == [200, 500, 500]
    # The process reads its one key in order, buffering the other sockets' messages.
    assert (await asyncio.wait_for(layer.receive(channels[1199]), timeout=10))["frame"]["seq"] == 1199
    assert (await asyncio.wait_for(layer.receive(channels[0]), timeout=10))["frame"]["seq"] == 0
    await layer.flush()


async def test_group_has_tells_whether_a_socket_is_still_in_its_group(layer: FanoutRedisChannelLayer) -> None:
    channel = await layer.new_channel()
    await layer.group_add("user.6", channel)
    assert await layer.group_has("user.6", channel) is True

    await layer.flush()  # what a Redis restart does to every group

    assert await layer.group_has("user.6", channel) is False


async def test_a_burst_of_joins_and_leaves_waits_for_the_pool_instead_of_failing(settings: Any) -> None:
    # A process handed many handshakes at once: more joins in flight than the pool has
    # connections (channels_redis's pool raises MaxConnectionsError when it runs dry).
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"{config.get('prefix', 'asgi')}-burst"
    config["hosts"] = [{**config["hosts"][0], "max_connections": 4}]
    layer = FanoutRedisChannelLayer(**config)
    channels = [await layer.new_channel() for _ in range(60)]
    await asyncio.gather(*(layer.group_add(f"user.{i}", c) for i, c in enumerate(channels)))
    assert all([await layer.group_has(f"user.{i}", c) for i, c in enumerate(channels)])
    await layer.group_send_many([("user.7", {"type": "realtime.event", "n": 7})])
    assert await asyncio.wait_for(layer.receive(channels[7]), timeout=2) == {"type": "realtime.event", "n": 7}
    await asyncio.gather(*(layer.group_discard(f"user.{i}", c) for i, c in enumerate(channels)))
    assert not any([await layer.group_has(f"user.{i}", c) for i, c in enumerate(channels)])
    await layer.flush()


async def test_a_process_takes_every_waiting_message_in_one_round_trip(settings: Any) -> None:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"{config.get('prefix', 'asgi')}-batches"
    layer = FanoutRedisChannelLayer(**config)
    sockets = [await layer.new_channel() for _ in range(3)]
    for group, channel in zip("abc", sockets, strict=True):
        await layer.group_add(group, channel)
    for n in range(20):
        await layer.group_send_many([(group, {"type": "t", "n": n}) for group in "abc"])
    blocking_pops = 0
    real_pop = layer._brpop_with_clean

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal blocking_pops
        blocking_pops += 1
        return await real_pop(*args, **kwargs)

    layer._brpop_with_clean = counted  # type: ignore[method-assign]

    received = [[m["n"] for m in await _drain(layer, channel)] for channel in sockets]

    assert received == [list(range(20))] * 3  # all of them, each socket's in order
    # The 60 waiting messages came in batches; channels_redis pops (and blocks) per
    # message. The only blocking pops are the drains' final waits on an empty channel.
    assert blocking_pops <= len(sockets)
    await layer.flush()


async def test_messages_an_interrupted_receive_held_are_handed_out_first_and_once(
    layer: FanoutRedisChannelLayer,
) -> None:
    socket = await layer.new_channel()
    await layer.group_add("g", socket)
    await layer.group_send_many([("g", {"type": "t", "n": 1})])
    process_channel = layer.non_local_name(socket)
    channel_key = layer.prefix + process_channel
    backup_key = layer._backup_channel_name(channel_key)
    connection = layer.connection(layer.consistent_hash(process_channel))
    # An interrupted receive: Redis had moved the message to the backup queue.
    [(content, score)] = await connection.zpopmin(channel_key)
    await connection.zadd(backup_key, {content: score})
    await layer.group_send_many([("g", {"type": "t", "n": 2})])

    received = [m["n"] for m in await _drain(layer, socket)]

    assert received == [1, 2]
    assert await connection.exists(backup_key) == 0
    await layer.flush()
