"""Presence: how many sockets each user has open right now, across ASGI processes.

With settings.REDIS_URL: one sorted set per user, member = the socket's channel name,
score = when that entry expires. Each process refreshes the entries of all its open
sockets every TTL/3 with one script call per 1,000 sockets (`refresh_many`, driven by
the consumers' per-process heartbeat), so a process that crashes leaves entries that simply age out (no
counter stays stuck high).
Without Redis (the embedded default, one process): a counter in memory.

The delivery pipeline reads it through `selectors.presence_online_user_ids`."""

from __future__ import annotations

import asyncio
import threading
import time
import types
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import redis
import redis.asyncio
from django.conf import settings

from .layers import close_idle_connections

DEFAULT_TTL_SECONDS = 90
KEY_PREFIX = "realtime:presence:"
# Per process (event loop): presence calls are single round trips, so a few dozen
# connections carry thousands of sockets; a burst queues for up to POOL_TIMEOUT_SECONDS.
POOL_MAX_CONNECTIONS = 50
POOL_TIMEOUT_SECONDS = 20
# Sockets per script call in refresh_many: a process's whole heartbeat in a few round
# trips, none of them holding Redis for more than a millisecond or two.
REFRESH_BATCH = 1000
# KEYS: one presence key per socket; ARGV: now, expires at, TTL, then each socket's
# connection (channel name). What join does, for many sockets.
REFRESH_LUA = """
local now, expires, ttl = ARGV[1], ARGV[2], ARGV[3]
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    redis.call('ZADD', KEYS[i], expires, ARGV[i + 3])
    redis.call('EXPIRE', KEYS[i], ttl)
end
return #KEYS
"""


class PresenceStore(Protocol):
    @property
    def heartbeat_seconds(self) -> float | None:
        """How often an open socket refreshes its entry (None: never needed)."""

    async def join(self, user_id: int, connection: str) -> None: ...

    async def refresh(self, user_id: int, connection: str) -> None: ...

    async def refresh_many(self, entries: Sequence[tuple[int, str]]) -> None:
        """`refresh` for many (user id, connection) pairs at once."""

    async def leave(self, user_id: int, connection: str) -> None: ...

    async def close_idle_connections(self) -> int:
        """Close the connections a burst opened and no longer uses (0: none held)."""

    def socket_counts(self, user_ids: Iterable[int]) -> dict[int, int]: ...


class InProcessPresence:
    """The embedded default: one process, so a locked counter is the whole truth."""

    heartbeat_seconds: float | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the selector reads from worker threads
        self._sockets: dict[int, set[str]] = {}

    async def join(self, user_id: int, connection: str) -> None:
        with self._lock:
            self._sockets.setdefault(user_id, set()).add(connection)

    async def refresh(self, user_id: int, connection: str) -> None:
        await self.join(user_id, connection)

    async def refresh_many(self, entries: Sequence[tuple[int, str]]) -> None:
        for user_id, connection in entries:
            await self.join(user_id, connection)

    async def leave(self, user_id: int, connection: str) -> None:
        with self._lock:
            sockets = self._sockets.get(user_id)
            if sockets is not None:
                sockets.discard(connection)
                if not sockets:
                    del self._sockets[user_id]

    async def close_idle_connections(self) -> int:
        return 0

    def socket_counts(self, user_ids: Iterable[int]) -> dict[int, int]:
        with self._lock:
            return {uid: len(self._sockets[uid]) for uid in set(user_ids) if uid in self._sockets}


class RedisPresence:
    """Shared by every ASGI process through Redis (redis-py asyncio in the consumer,
    the sync client in the selector)."""

    def __init__(self, url: str, ttl: int, prefix: str = KEY_PREFIX) -> None:
        self.url = url
        self.ttl = ttl
        self.prefix = prefix
        self.heartbeat_seconds = ttl / 3
        self._sync_client: redis.Redis = redis.Redis.from_url(url)
        # A redis.asyncio client belongs to the event loop that opened its connections.
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
            weakref.WeakKeyDictionary()
        )

    def key(self, user_id: int) -> str:
        return f"{self.prefix}{int(user_id)}"

    def _client(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            # A bounded pool that makes a burst wait for a connection: redis-py's default
            # pool fails at once past 100 connections, and a failed leave() left a gone
            # user "online" (no push) for a TTL (bench/: reconnect storm, district notice).
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url, max_connections=POOL_MAX_CONNECTIONS, timeout=POOL_TIMEOUT_SECONDS
            )
            client = redis.asyncio.Redis.from_pool(pool)  # owns the pool: closed with the client
            self._async_clients[loop] = client
            _close_with_loop(loop, client)
        return client

    async def join(self, user_id: int, connection: str) -> None:
        await self.refresh_many([(user_id, connection)])

    async def refresh(self, user_id: int, connection: str) -> None:
        await self.join(user_id, connection)

    async def refresh_many(self, entries: Sequence[tuple[int, str]]) -> None:
        """One round trip (a script) per REFRESH_BATCH sockets: each entry's expiry moves
        to now + TTL, and expired entries of the same users (crashed processes) go. A
        script rather than a pipeline: three commands per socket cost the process
        ~100 µs each to encode and parse (py-spy, bench/ idle_capacity)."""
        client = self._client()
        for start in range(0, len(entries), REFRESH_BATCH):
            batch = entries[start : start + REFRESH_BATCH]
            now = time.time()
            await client.eval(
                REFRESH_LUA,
                len(batch),
                *(self.key(user_id) for user_id, _ in batch),
                now,
                now + self.ttl,
                self.ttl,
                *(connection for _, connection in batch),
            )

    async def leave(self, user_id: int, connection: str) -> None:
        await self._client().zrem(self.key(user_id), connection)

    async def close_idle_connections(self) -> int:
        """This event loop's idle pooled connections beyond a few (after a burst)."""
        return await close_idle_connections(self._client().connection_pool)

    def socket_counts(self, user_ids: Iterable[int]) -> dict[int, int]:
        ids = list(dict.fromkeys(int(uid) for uid in user_ids))
        if not ids:
            return {}
        now = time.time()
        pipe = self._sync_client.pipeline(transaction=False)
        for uid in ids:
            pipe.zcount(self.key(uid), f"({now}", "+inf")
        counts = pipe.execute()  # one round trip for any number of users
        return {uid: int(count) for uid, count in zip(ids, counts, strict=True) if count}


def _close_with_loop(loop: asyncio.AbstractEventLoop, client: redis.asyncio.Redis) -> None:
    """Close the loop's client when the loop closes (tests run one loop per test), the
    way channels_redis does for its own connections."""
    original_close = loop.close

    def close(self: asyncio.AbstractEventLoop, *args: Any, **kwargs: Any) -> None:
        self.close = original_close  # type: ignore[method-assign]
        if not self.is_closed() and not self.is_running():
            self.run_until_complete(client.aclose())
        original_close(*args, **kwargs)

    loop.close = types.MethodType(close, loop)  # type: ignore[method-assign]


_stores: dict[tuple[str | None, int], PresenceStore] = {}
_stores_lock = threading.Lock()


def presence_store() -> PresenceStore:
    """The store for the current settings (tests may switch REDIS_URL)."""
    url: str | None = getattr(settings, "REDIS_URL", None) or None
    ttl = int(getattr(settings, "REALTIME_PRESENCE_TTL", DEFAULT_TTL_SECONDS))
    with _stores_lock:
        store = _stores.get((url, ttl))
        if store is None:
            store = RedisPresence(url, ttl) if url else InProcessPresence()
            _stores[(url, ttl)] = store
        return store


def socket_counts(user_ids: Iterable[int]) -> dict[int, int]:
    return presence_store().socket_counts(user_ids)
