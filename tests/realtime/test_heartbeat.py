"""The per-process heartbeat of the sockets (consumers.Heartbeat) and the handshake's
query budget: what a reconnect storm and 5,000 idle sockets cost (bench/)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
import redis.asyncio
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db.backends.utils import CursorWrapper

from backend.realtime.consumers import heartbeat_for
from backend.realtime.frames import user_group
from backend.realtime.layers import FanoutRedisChannelLayer, close_idle_connections
from backend.realtime.presence import RedisPresence, presence_store
from backend.realtime.selectors import presence_online_user_ids

socket_test = pytest.mark.django_db(transaction=True)


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """Every SQL statement run meanwhile, on any thread (the consumer reads in a pool)."""
    statements: list[str] = []
    original = CursorWrapper._execute  # type: ignore[attr-defined]

    def counting(self: CursorWrapper, sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return original(self, sql, *args, **kwargs)

    CursorWrapper._execute = counting  # type: ignore[attr-defined]
    try:
        yield statements
    finally:
        CursorWrapper._execute = original  # type: ignore[attr-defined]


@socket_test
async def test_a_reconnect_that_misses_events_costs_three_queries(
    sockets: Any, user: Any, asend: Any
) -> None:
    """The user check at the handshake, the end of the log when the resume comes (read
    then, so nothing committed in between can fall between live and replay), and the
    replay. Nothing else touches the database."""
    for n in (1, 2, 3):
        await asend([user], n)
    with sql_statements() as statements:
        ws = await sockets.open(headers=sockets.bearer(user))
        await ws.send_json_to({"type": "resume", "after_seq": 1})
        frames = await sockets.frames(ws, 3)
    assert [(f["type"], f.get("seq")) for f in frames] == [
        ("test.happened", 2),
        ("test.happened", 3),
        ("resumed", 3),
    ]
    assert len(statements) == 3, statements


@socket_test
async def test_an_up_to_date_reconnect_costs_two_queries(sockets: Any, user: Any, asend: Any) -> None:
    await asend([user], 1)
    with sql_statements() as statements:
        ws = await sockets.open(headers=sockets.bearer(user))
        await ws.send_json_to({"type": "resume", "after_seq": 1})
        assert await ws.receive_json_from() == {"type": "resumed", "seq": 1}
    assert len(statements) == 2, statements  # no replay query when nothing was missed


@socket_test
async def test_an_event_committed_after_the_handshake_still_reaches_the_first_resume(
    sockets: Any, user: Any, asend: Any
) -> None:
    """The socket had joined its group at the handshake, so the event comes live, and
    the resume that follows replays in order without a gap."""
    await asend([user], 1)
    ws = await sockets.open(headers=sockets.bearer(user))
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}  # the handshake is done
    await asend([user], 2)
    [live] = await sockets.frames(ws, 1)
    assert live["seq"] == 2
    await ws.send_json_to({"type": "resume", "after_seq": 0})
    frames = await sockets.frames(ws, 3)
    assert [f.get("seq") for f in frames] == [1, 2, 2]  # replay 1..2, then `resumed` at 2
    assert frames[-1] == {"type": "resumed", "seq": 2}


@socket_test
async def test_a_deactivated_user_is_still_refused_at_the_handshake(sockets: Any, make_user: Any) -> None:
    user = await database_sync_to_async(make_user)(is_active=False)
    ws = await sockets.open(headers=sockets.bearer(user))
    assert await sockets.closed_with(ws) == 4401


# With Redis: the heartbeat itself.


class RoundTrips:
    """Counts what the process sends to Redis: pipelines and single commands."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pipelines = 0
        self.commands: list[str] = []
        pipeline_execute = redis.asyncio.client.Pipeline.execute
        execute_command = redis.asyncio.Redis.execute_command

        async def counted_pipeline(pipe: Any, *args: Any, **kwargs: Any) -> Any:
            self.pipelines += 1
            return await pipeline_execute(pipe, *args, **kwargs)

        async def counted_command(client: Any, *args: Any, **kwargs: Any) -> Any:
            self.commands.append(str(args[0]))
            return await execute_command(client, *args, **kwargs)

        monkeypatch.setattr(redis.asyncio.client.Pipeline, "execute", counted_pipeline)
        monkeypatch.setattr(redis.asyncio.Redis, "execute_command", counted_command)


def _scores(store: RedisPresence, user_ids: list[int]) -> list[float]:
    client = redis.Redis.from_url(store.url)
    rows: list[Any] = [
        row for uid in user_ids for row in client.zrange(store.key(uid), 0, -1, withscores=True)
    ]  # type: ignore[union-attr]
    return [float(score) for _, score in rows]


@pytest.mark.redis
@socket_test
async def test_one_beat_refreshes_every_socket_of_the_process_in_two_round_trips(
    sockets: Any, make_users: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = await database_sync_to_async(make_users)(12)
    for u in users:
        await sockets.for_user(u)
    store = presence_store()
    assert isinstance(store, RedisPresence)
    assert store.heartbeat_seconds
    heartbeat = heartbeat_for(store, store.heartbeat_seconds)
    assert len(heartbeat.sockets) == 12
    ids = [u.pk for u in users]
    before = _scores(store, ids)
    await asyncio.sleep(0.05)

    trips = RoundTrips(monkeypatch)
    await heartbeat.beat()

    # One script call for the presence entries, one for the group memberships; no
    # per-socket command (it was four round trips per socket every 30 s).
    assert (trips.pipelines, trips.commands) == (0, ["EVAL", "EVAL"])
    after = _scores(store, ids)
    assert len(after) == 12
    assert all(a > b for a, b in zip(after, before, strict=True))
    assert presence_online_user_ids(ids) == set(ids)
    layer = get_channel_layer()
    for consumer in heartbeat.sockets.values():
        assert await layer.group_has(consumer.group, consumer.channel_name)


@pytest.mark.redis
@socket_test
async def test_a_socket_whose_group_redis_forgot_catches_up_on_the_next_beat(
    sockets: Any, user: Any, asend: Any
) -> None:
    """A restarted Redis forgets every group: the event published meanwhile never comes
    live. The beat re-joins the group, notices it was gone and replays from the log."""
    ws = await sockets.for_user(user)
    await ws.send_json_to({"type": "resume", "after_seq": 0})
    assert await ws.receive_json_from() == {"type": "resumed", "seq": 0}
    layer = get_channel_layer()
    store = presence_store()
    assert isinstance(store, RedisPresence)
    redis.Redis.from_url(store.url).delete(layer._group_key(user_group(user.pk)))  # type: ignore[union-attr]

    await asend([user], 1)
    assert await ws.receive_nothing(timeout=0.5)

    await heartbeat_for(store, store.heartbeat_seconds).beat()
    frame = json.loads(await ws.receive_from())
    assert (frame["seq"], frame["data"]) == (1, {"n": 1})
    await asend([user], 2)  # and the group works again
    [live] = await sockets.frames(ws, 1)
    assert live["seq"] == 2


@pytest.mark.redis
@socket_test
async def test_a_socket_that_closes_during_a_beat_is_not_put_back(sockets: Any, user: Any) -> None:
    """The beat's writes may land after the socket left (another pooled connection):
    the user must not stay "online" (no push) for a TTL, nor a member of the group."""
    ws = await sockets.for_user(user)
    store = presence_store()
    assert isinstance(store, RedisPresence)
    assert store.heartbeat_seconds
    heartbeat = heartbeat_for(store, store.heartbeat_seconds)
    [consumer] = heartbeat.sockets.values()
    group, channel = consumer.group, consumer.channel_name
    refresh_many = store.refresh_many

    async def close_first(entries: Any) -> None:
        await ws.disconnect()  # the socket leaves: presence entry and group entry removed
        sockets.opened.remove(ws)
        assert presence_online_user_ids([user.pk]) == set()
        await refresh_many(entries)  # then the beat's writes land

    store.refresh_many = close_first  # type: ignore[method-assign]
    try:
        await heartbeat.beat()
    finally:
        del store.refresh_many  # type: ignore[method-assign]

    assert presence_online_user_ids([user.pk]) == set()
    assert await get_channel_layer().group_has(group, channel) is False


@pytest.mark.redis
async def test_idle_connections_beyond_a_few_are_closed_and_the_layer_still_works(settings: Any) -> None:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"{config.get('prefix', 'asgi')}-reaper"
    # A Redis database nothing else in the suite uses, so the client count below is
    # this layer's alone (other tests' pools and sockets live in the worker's own db).
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/15"
    config["hosts"] = [{**host, "address": url} for host in config["hosts"]]
    layer = FanoutRedisChannelLayer(**config)
    pool = layer.connection(0).connection_pool

    def clients() -> int:
        client = redis.Redis.from_url(url)
        db = client.connection_pool.connection_kwargs.get("db", 0)
        me = client.client_id()
        rows = client.client_list()
        client.close()
        return sum(1 for r in rows if int(r.get("db", -1)) == db and int(r["id"]) != me)

    before = clients()
    # A burst: 40 concurrent commands open 40 connections, which the pool then keeps.
    await asyncio.gather(*(layer.connection(0).ping() for _ in range(40)))
    assert clients() >= before + 40

    # While a burst is still under way (more than `keep` in use), nothing is closed.
    held = [await pool.get_connection() for _ in range(4)]
    assert await layer.close_idle_connections(keep=3) == 0
    for connection in held:
        await pool.release(connection)

    assert await layer.close_idle_connections(keep=3) == 37
    assert clients() <= before + 3
    assert await close_idle_connections(pool, keep=3) == 0  # nothing more to close

    channel = await layer.new_channel()
    await layer.group_add("user.77", channel)
    await layer.group_send_many([("user.77", {"type": "test.message", "n": 1})])
    assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": "test.message", "n": 1}
    await layer.flush()


@pytest.mark.redis
async def test_group_refresh_many_reports_the_members_redis_had_forgotten(settings: Any) -> None:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"{config.get('prefix', 'asgi')}-refresh"
    layer = FanoutRedisChannelLayer(**config)
    kept, forgotten = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("user.81", kept)
    assert await layer.group_refresh_many([("user.81", kept), ("user.82", forgotten)]) == [False, True]
    assert await layer.group_has("user.82", forgotten)
    assert await layer.group_refresh_many([("user.81", kept), ("user.82", forgotten)]) == [False, False]
    await layer.flush()


@pytest.mark.redis
async def test_group_add_is_one_round_trip_and_keeps_the_group_expiry(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"{config.get('prefix', 'asgi')}-join"
    layer = FanoutRedisChannelLayer(**config)
    channel = await layer.new_channel()
    trips = RoundTrips(monkeypatch)
    await layer.group_add("user.91", channel)
    assert (trips.pipelines, trips.commands) == (1, [])
    assert await layer.group_has("user.91", channel)
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(layer._group_key("user.91"))
    assert layer.group_expiry - 5 <= ttl <= layer.group_expiry
    await layer.flush()
