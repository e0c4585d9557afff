"""Several ASGI processes sharing Redis: each "process" is its own channel layer (the
production class, own connections, own channel-name prefix), as it is in production."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
import time_machine
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.db import transaction
from django.utils import timezone

from backend.realtime.layers import FanoutRedisChannelLayer as RedisChannelLayer
from backend.realtime.presence import RedisPresence, presence_store
from backend.realtime.selectors import presence_online_user_ids, presence_socket_counts
from backend.realtime.services import realtime_disconnect_user_on_commit

pytestmark = pytest.mark.redis
socket_test = pytest.mark.django_db(transaction=True)


class Processes:
    """Switches which layer instance `get_channel_layer()` hands out: a consumer keeps
    the layer it started with, send_event_on_commit publishes through the current one."""

    def __init__(self, settings: Any) -> None:
        config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
        self.a = RedisChannelLayer(**config)
        self.b = RedisChannelLayer(**config)

    def on(self, layer: RedisChannelLayer) -> None:
        channel_layers.backends["default"] = layer


@pytest.fixture
def processes(settings: Any) -> Iterator[Processes]:
    yield Processes(settings)
    channel_layers.backends.clear()


@socket_test
async def test_event_sent_on_process_b_reaches_a_socket_on_process_a(
    sockets: Any, user: Any, asend: Any, processes: Processes
) -> None:
    assert processes.a.client_prefix != processes.b.client_prefix
    processes.on(processes.a)
    ws = await sockets.for_user(user)
    processes.on(processes.b)
    await asend([user], 1)
    [frame] = await sockets.frames(ws, 1)
    assert (frame["seq"], frame["data"]) == (1, {"n": 1})


@socket_test
async def test_presence_counts_sockets_on_both_processes(
    sockets: Any, user: Any, make_user: Any, processes: Processes
) -> None:
    other = await database_sync_to_async(make_user)()
    processes.on(processes.a)
    on_a = await sockets.for_user(user)
    processes.on(processes.b)
    on_b = await sockets.for_user(user)
    await sockets.for_user(other)
    assert presence_socket_counts([user.pk, other.pk]) == {user.pk: 2, other.pk: 1}
    await on_a.disconnect()
    assert presence_socket_counts([user.pk]) == {user.pk: 1}
    await on_b.disconnect()
    assert presence_online_user_ids([user.pk, other.pk]) == {other.pk}


@socket_test
async def test_deactivation_on_process_b_closes_the_socket_on_process_a(
    sockets: Any, user: Any, processes: Processes
) -> None:
    processes.on(processes.a)
    ws = await sockets.for_user(user)
    processes.on(processes.b)

    def deactivate() -> None:
        with transaction.atomic():
            type(user).objects.filter(pk=user.pk).update(is_active=False)
            realtime_disconnect_user_on_commit(user.pk)

    await database_sync_to_async(deactivate)()
    assert await sockets.closed_with(ws) == 4401
    assert presence_online_user_ids([user.pk]) == set()


async def test_a_crashed_process_does_not_keep_users_online() -> None:
    """A process that dies never says goodbye; its entries age out after the TTL."""
    store = presence_store()
    assert isinstance(store, RedisPresence)
    user_id = 424242
    await store.join(user_id, "specific.crashed!abc")
    assert presence_online_user_ids([user_id, 7]) == {user_id}
    with time_machine.travel(timezone.now() + timedelta(seconds=store.ttl + 1)):
        assert presence_online_user_ids([user_id]) == set()
        await store.join(user_id, "specific.alive!def")  # also sweeps the dead entry
        assert presence_socket_counts([user_id]) == {user_id: 1}
        assert redis.Redis.from_url(store.url).zcard(store.key(user_id)) == 1


@socket_test
async def test_open_sockets_refresh_their_presence_without_client_frames(
    sockets: Any, user: Any, settings: Any
) -> None:
    settings.REALTIME_PRESENCE_TTL = 3  # refreshed every second
    await sockets.for_user(user)
    store = presence_store()
    assert isinstance(store, RedisPresence)
    client = redis.Redis.from_url(store.url)
    [(_, first)] = client.zrange(store.key(user.pk), 0, -1, withscores=True)
    latest = first
    for _ in range(50):
        await asyncio.sleep(0.1)
        [(_, latest)] = client.zrange(store.key(user.pk), 0, -1, withscores=True)
        if latest > first:
            break
    assert latest > first
    assert presence_online_user_ids([user.pk]) == {user.pk}


@socket_test
async def test_idle_socket_survives_the_configured_channel_layer(
    sockets: Any, user: Any, settings: Any
) -> None:
    """channels_redis blocks 5 s in BZPOPMIN; redis-py ≥ 8 defaults socket_timeout to 5 s,
    which kills idle sockets with 1011 unless the layer's hosts turn it off."""
    from backend.settings import test as configured

    settings.CHANNEL_LAYERS = configured.CHANNEL_LAYERS
    channel_layers.backends.clear()
    ws = await sockets.for_user(user)
    await asyncio.sleep(6)
    try:
        await ws.send_json_to({"type": "ping"})
        pong = await ws.receive_json_from()
    except redis.exceptions.TimeoutError:
        sockets.opened.remove(ws)  # it has already died; nothing to close
        pytest.fail(
            "the socket died on an idle Redis read: CHANNEL_LAYERS hosts need "
            '{"address": REDIS_URL, "socket_timeout": None} with redis-py >= 8'
        )
    assert pong == {"type": "pong"}
