"""Presence under a burst: more concurrent joins and leaves than the pool has
connections wait their turn instead of failing (a failed leave kept a gone user
"online", so they got no push)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis

from backend.realtime import presence

pytestmark = pytest.mark.redis


async def test_a_burst_larger_than_the_pool_joins_and_leaves_everyone(
    settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(presence, "POOL_MAX_CONNECTIONS", 5)
    store = presence.RedisPresence(settings.REDIS_URL, ttl=60, prefix="test:presence-burst:")
    users = range(1, 301)

    await asyncio.gather(*(store.join(uid, f"socket-{uid}") for uid in users))
    assert len(store.socket_counts(users)) == 300

    await asyncio.gather(*(store.leave(uid, f"socket-{uid}") for uid in users))
    assert store.socket_counts(users) == {}
    assert redis.Redis.from_url(settings.REDIS_URL).keys("test:presence-burst:*") == []
