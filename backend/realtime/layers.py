"""The Redis channel layer with a batched group send for fan-outs.

channels-redis's `group_send` costs three round trips to Redis per group (expire old
members, read members, run the send script). A notice to 5,000 families is 5,000 user
groups: bench/ measured ~2,400 groups/s, so the last family's socket heard about a school
notice seconds after the commit. `group_send_many` does the same work for many groups in
two pipelined round trips per Redis host, with the same semantics: group and message
expiry, per-channel capacity, and the same Lua send script as `group_send`."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import defaultdict, deque
from collections.abc import Sequence
from typing import Any, cast

import redis.asyncio
from channels_redis.core import RedisChannelLayer

# group_refresh_many: KEYS one group key per membership; ARGV now, group expiry, then
# each membership's channel. Returns the (1-based) positions whose channel was missing.
GROUP_REFRESH_LUA = """
local lost = {}
for i = 1, #KEYS do
    if redis.call('ZADD', KEYS[i], ARGV[1], ARGV[i + 2]) == 1 then
        lost[#lost + 1] = i
    end
    redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return lost
"""
REFRESH_BATCH = 1000

# _members_of: KEYS group keys; ARGV the oldest score still a member. Each group's
# expired members dropped, then its members: one script call per REFRESH_BATCH groups
# instead of two pipelined commands per group (bench/ district_notice: the publisher's
# CPU per group 38 → 4 µs).
GROUP_MEMBERS_LUA = """
local out = {}
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, ARGV[1])
    out[i] = redis.call('ZRANGE', KEYS[i], 0, -1)
end
return out
"""

# A process's receive loop takes up to this many waiting messages per round trip (see
# FanoutRedisChannelLayer.receive_single).
RECEIVE_BATCH = 100

# channels_redis's receive, for up to ARGV[1] messages at once: put back what an
# interrupted receive left in the backup queue (KEYS[2]), pop the oldest messages of the
# channel (KEYS[1]) and keep them in the backup queue until the caller has them.
RECEIVE_BATCH_LUA = """
local backed_up = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = #backed_up, 1, -2 do
    redis.call('ZADD', KEYS[1], backed_up[i], backed_up[i - 1])
end
redis.call('DEL', KEYS[2])
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[1]))
for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
end
return popped
"""

# Group joins and leaves in flight at once per event loop and Redis host, at most (and at
# most half the pool). channels_redis's pool fails at once when it runs dry: a process
# handed 2,000 handshakes at once (a restart behind a load balancer) failed ~450 of them
# with 1011 (MaxConnectionsError) once nothing else paced the handshakes (bench/: the
# JWT check left the thread pool). Queued here instead, each a sub-millisecond round trip.
MEMBERSHIP_CONCURRENCY = 100

# Idle pooled connections a process keeps per pool when its heartbeat tidies up: enough
# for an idle process's own traffic (the receive loop's blocking read is in use, not idle).
KEEP_IDLE_CONNECTIONS = 8


async def close_idle_connections(
    pool: redis.asyncio.ConnectionPool, keep: int = KEEP_IDLE_CONNECTIONS
) -> int:
    """Close the pool's idle connections beyond the `keep` most recently used; returns how
    many. redis-py pools never close what a burst opened: after a reconnect storm the
    channel layer held ~1,000 Redis connections per process for good (bench/:
    reconnect_storm). The pool hands out the most recently released connection first
    (LIFO), so the oldest idle ones are at the front of its list. Taking them out is one
    synchronous step (no await), as the pool's own get and release are, so no task can
    be handed a connection that is being closed; the pool opens new ones on demand."""
    idle: list[Any] = pool._available_connections  # redis-py 5–8: LIFO list of idle connections
    if len(pool._in_use_connections) > keep:
        return 0  # a burst is under way: it is about to reuse them
    surplus = len(idle) - keep
    if surplus <= 0:
        return 0
    victims = idle[:surplus]
    del idle[:surplus]
    for connection in victims:
        await connection.disconnect()
    return len(victims)


# The script RedisChannelLayer.group_send runs (channels-redis 4.x): add the message to
# each channel's sorted set unless the channel is at capacity.
GROUP_SEND_LUA = """
local over_capacity = 0
local current_time = ARGV[#ARGV - 1]
local expiry = ARGV[#ARGV]
for i=1,#KEYS do
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
        redis.call('ZADD', KEYS[i], current_time, ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


class FanoutRedisChannelLayer(RedisChannelLayer):  # type: ignore[misc]
    """`RedisChannelLayer` plus `group_send_many(messages)`, `group_has()` and
    `group_refresh_many()` (the per-process heartbeat of the consumers)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._membership_by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()
        # Messages taken from Redis by a batched receive and not handed out yet, per
        # process channel, oldest first.
        self._taken: dict[str, deque[bytes]] = {}

    async def receive_single(self, channel: str) -> tuple[Any, dict[str, Any]]:
        """channels_redis's receive_single, for the process's own channel ("…!"), taking
        every waiting message (up to RECEIVE_BATCH) in one round trip. channels_redis
        makes four per message (restore the backup queue, BZPOPMIN, back it up, clean
        the backup): with 25 sockets of a class in one process, a notice cost 100 round
        trips before the last socket heard of it (bench/ class_notice, broadcast).
        The same guarantees: what Redis handed over stays in the backup queue until this
        process holds it, and an interrupted receive's messages are put back first;
        when nothing waits, it blocks as channels_redis does. Messages taken and not yet
        handed out live in this process, like the ones in channels_redis's own buffer."""
        if "!" not in channel:
            return cast(tuple[Any, dict[str, Any]], await super().receive_single(channel))
        taken = self._taken.get(channel)
        if taken:
            return self._unpack(channel, taken.popleft())
        assert self.require_valid_channel_name(channel, receive=True), "Channel name invalid"
        index = self.consistent_hash(channel)
        channel_key = self.prefix + channel
        backup_key = self._backup_channel_name(channel_key)
        await self.receive_clean_locks.acquire(channel_key)
        try:
            popped = await self.connection(index).eval(
                RECEIVE_BATCH_LUA, 2, channel_key, backup_key, RECEIVE_BATCH
            )
            contents: list[bytes] = list(popped[0::2])
            while not contents:
                content = await self._brpop_with_clean(index, channel_key, timeout=self.brpop_timeout)
                if content is not None:
                    contents = [content]
            # Held here now: empty the backup queue (the next receive of this channel
            # waits for it, so nothing is put back twice).
            cleaner = asyncio.ensure_future(self.connection(index).delete(backup_key))
            self.receive_cleaners.append(cleaner)

            def _cleanup_done(done: Any) -> None:
                self.receive_cleaners.remove(done)
                self.receive_clean_locks.release(channel_key)

            cleaner.add_done_callback(_cleanup_done)
        except BaseException:
            self.receive_clean_locks.release(channel_key)
            raise
        if len(contents) > 1:
            self._taken.setdefault(channel, deque()).extend(contents[1:])
        return self._unpack(channel, contents[0])

    def _unpack(self, channel: str, content: bytes) -> tuple[Any, dict[str, Any]]:
        message = self.deserialize(content)
        # A process channel's message names the socket it is for.
        target = message.pop("__asgi_channel__", channel)
        return target, message

    async def group_send_many(self, messages: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Send each (group, message) pair as `group_send` would. Returns how many
        channels were over capacity (their message dropped, as group_send drops it)."""
        now = time.time()
        members = await self._members_of([group for group, _ in messages], now)
        sends: dict[int, list[tuple[list[Any], list[Any]]]] = defaultdict(list)
        for (_, message), channel_names in zip(messages, members, strict=True):
            if not channel_names:
                continue  # nobody of the group has a socket open here or elsewhere
            by_index, key_message, key_capacity = self._map_channel_keys_to_connection(channel_names, message)
            for index, keys in by_index.items():
                args = [key_message[k] for k in keys] + [key_capacity[k] for k in keys]
                sends[index].append((keys, args))
        over_capacity = 0
        for index, items in sends.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for keys, _ in items:
                for key in keys:
                    pipe.zremrangebyscore(key, min=0, max=int(now) - int(self.expiry))
            for position, (keys, args) in enumerate(items):
                # Receivers pop the lowest score first: a microsecond apart keeps two
                # messages for the same socket in the order they were given.
                pipe.eval(GROUP_SEND_LUA, len(keys), *keys, *args, now + position * 1e-6, self.expiry)
            results = await pipe.execute()
            over_capacity += sum(int(r) for r in results[-len(items) :])
        return over_capacity

    def _membership_slots(self, index: int) -> asyncio.Semaphore:
        """This event loop's bound on group joins and leaves in flight to Redis host `index`."""
        slots = self._membership_by_loop.setdefault(asyncio.get_running_loop(), {})
        semaphore = slots.get(index)
        if semaphore is None:
            pool_size = int(getattr(self.connection(index).connection_pool, "max_connections", 0) or 0)
            limit = (
                MEMBERSHIP_CONCURRENCY
                if pool_size <= 0
                else max(1, min(MEMBERSHIP_CONCURRENCY, pool_size // 2))
            )
            semaphore = slots[index] = asyncio.Semaphore(limit)
        return semaphore

    async def group_add(self, group: str, channel: str) -> None:
        """channels_redis's group_add (ZADD, then EXPIRE on the group key) in one pipelined
        round trip instead of two: every handshake of a reconnect storm makes one. At most
        MEMBERSHIP_CONCURRENCY at once per process and host; the others wait their turn."""
        assert self.require_valid_group_name(group), "Group name not valid"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        key = self._group_key(group)
        index = self.consistent_hash(group)
        pipeline = self.connection(index).pipeline(transaction=False)
        async with self._membership_slots(index), pipeline as pipe:
            pipe.zadd(key, {channel: time.time()})
            pipe.expire(key, self.group_expiry)
            await pipe.execute()

    async def group_discard(self, group: str, channel: str) -> None:
        """channels_redis's group_discard, paced as group_add (a burst of closing sockets)."""
        assert self.require_valid_group_name(group), "Group name not valid"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        index = self.consistent_hash(group)
        async with self._membership_slots(index):
            await self.connection(index).zrem(self._group_key(group), channel)

    async def close_idle_connections(self, keep: int = KEEP_IDLE_CONNECTIONS) -> int:
        """`close_idle_connections` for this event loop's pool of every Redis host."""
        closed = 0
        for index in range(self.ring_size):
            closed += await close_idle_connections(self.connection(index).connection_pool, keep)
        return closed

    async def group_has(self, group: str, channel: str) -> bool:
        """Whether `channel` is still a member of `group` (a restarted Redis forgot every
        group). One round trip."""
        key = self._group_key(group)
        score = await self.connection(self.consistent_hash(group)).zscore(key, channel)
        return score is not None

    async def _members_of(self, groups: Sequence[str], now: float) -> list[list[str]]:
        """The channel names of each group (expired members removed first), one script
        call per Redis host and REFRESH_BATCH groups."""
        positions: dict[int, list[int]] = defaultdict(list)
        for position, group in enumerate(groups):
            assert self.require_valid_group_name(group), "Group name not valid"
            positions[self.consistent_hash(group)].append(position)
        members: list[list[str]] = [[] for _ in groups]
        oldest = int(now) - self.group_expiry
        for index, group_positions in positions.items():
            connection = self.connection(index)
            for start in range(0, len(group_positions), REFRESH_BATCH):
                batch = group_positions[start : start + REFRESH_BATCH]
                keys = [self._group_key(groups[position]) for position in batch]
                results = await connection.eval(GROUP_MEMBERS_LUA, len(keys), *keys, oldest)
                for position, names in zip(batch, results, strict=True):
                    members[position] = [name.decode("utf8") for name in names]
        return members

    async def group_refresh_many(self, memberships: Sequence[tuple[str, str]]) -> list[bool]:
        """Re-add each (group, channel) as `group_add` does (score now, group key expiry
        renewed), one script call per Redis host and REFRESH_BATCH pairs instead of two
        round trips per socket. Returns, per pair, whether the channel had been missing
        from its group (a restarted Redis forgot it): ZADD counts the members it added,
        not those it only re-scored."""
        now = time.time()
        positions: dict[int, list[int]] = defaultdict(list)
        for position, (group, channel) in enumerate(memberships):
            assert self.require_valid_group_name(group), "Group name not valid"
            assert self.require_valid_channel_name(channel), "Channel name not valid"
            positions[self.consistent_hash(group)].append(position)
        lost = [False] * len(memberships)
        for index, group_positions in positions.items():
            connection = self.connection(index)
            for start in range(0, len(group_positions), REFRESH_BATCH):
                batch = group_positions[start : start + REFRESH_BATCH]
                added = await connection.eval(
                    GROUP_REFRESH_LUA,
                    len(batch),
                    *(self._group_key(memberships[p][0]) for p in batch),
                    now,
                    self.group_expiry,
                    *(memberships[p][1] for p in batch),
                )
                for n in added:
                    lost[batch[int(n) - 1]] = True
        return lost
