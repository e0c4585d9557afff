"""When to try a RETRY push again: exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

import email.utils
import math
import random
from datetime import UTC, datetime
from typing import Protocol

# Attempts per message, the first send included; after that a RETRY is given up.
MAX_ATTEMPTS = 5

# 2**64 seconds is far past any cap; clamping keeps huge attempt numbers from overflowing.
_MAX_EXPONENT = 64


class UniformSource(Protocol):
    def uniform(self, a: float, b: float, /) -> float: ...


def backoff_delay(
    attempt: int,
    *,
    base: float = 1.0,
    cap: float = 300.0,
    retry_after: float | None = None,
    rng: UniformSource = random,
) -> float:
    """Seconds to wait before the next try.

    `attempt` counts the retries already scheduled, starting at 0 (Celery's
    `self.request.retries`). The delay is drawn uniformly from [floor, ceiling] where
    ceiling = min(cap, base * 2**attempt) ("full jitter", so a burst of failures spreads
    out) and floor = retry_after: FCM's Retry-After is never undercut. A Retry-After above
    `cap` wins over the cap, because sending earlier would only be refused again."""
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    floor = max(0.0, retry_after or 0.0)
    ceiling = min(cap, base * 2.0 ** min(attempt, _MAX_EXPONENT))
    if ceiling <= floor:
        return floor
    return rng.uniform(floor, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from an HTTP Retry-After header (delay-seconds or an HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None
