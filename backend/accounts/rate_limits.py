"""Fixed-window rate limits on atomic cache counters (cache.add + cache.incr, atomic on
Redis and on the in-process cache).

Windows are aligned to the clock (a minute, an hour, a local calendar day), so the key
names its window: no TTL has to be read back to answer Retry-After, and a moved clock
(tests) starts a fresh window. The cost is the usual fixed-window edge: two hits a
second apart can fall into two minutes."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

WINDOW_SECONDS: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400}
KEY_PREFIX = "ratelimit"


class RateLimitExceeded(Exception):
    def __init__(self, *, window: str, retry_after: int) -> None:
        super().__init__(window, retry_after)
        self.window = window
        self.retry_after = retry_after


def _window(window: str, now: datetime) -> tuple[int, float]:
    """(start as a timestamp, end as a timestamp) of the window that contains `now`."""
    if window == "day":
        # A day is the local (Asia/Shanghai) calendar day: "10 a day" resets at midnight.
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return int(start.timestamp()), (start + timedelta(days=1)).timestamp()
    period = WINDOW_SECONDS[window]
    start_ts = int(now.timestamp() // period * period)
    return start_ts, float(start_ts + period)


def rate_limit_hit(*, scope: str, ident: str, limits: Mapping[str, int], now: datetime | None = None) -> None:
    """Count one hit of `ident` against every window in `limits` ({"minute": 1, ...}),
    shortest first, and raise RateLimitExceeded for the first window over its limit.

    Windows after a refusing one are not counted, so being refused for the minute does
    not use up the hour or the day."""
    now = now or timezone.now()
    # Hashed so phone numbers and addresses do not sit in the cache in clear text.
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    for window in sorted(limits, key=WINDOW_SECONDS.__getitem__):
        start, end = _window(window, now)
        key = f"{KEY_PREFIX}:{scope}:{window}:{start}:{digest}"
        timeout = math.ceil(end - now.timestamp()) + 60
        cache.add(key, 0, timeout=timeout)
        try:
            count = cache.incr(key)
        except ValueError:
            # Evicted between add and incr: this hit opens the window again.
            cache.add(key, 1, timeout=timeout)
            count = 1
        if count > limits[window]:
            raise RateLimitExceeded(window=window, retry_after=max(1, math.ceil(end - now.timestamp())))
