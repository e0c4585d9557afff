"""backoff_delay and Retry-After parsing."""

from __future__ import annotations

import random
import statistics
import time
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.delivery.push import MAX_ATTEMPTS, backoff_delay, parse_retry_after

attempts = st.integers(min_value=0, max_value=200)
bases = st.floats(min_value=0.01, max_value=60)
caps = st.floats(min_value=1, max_value=3600)
seeds = st.integers(min_value=0, max_value=2**32)


@given(attempt=attempts, base=bases, cap=caps, seed=seeds)
def test_delay_stays_between_zero_and_the_cap(attempt, base, cap, seed):
    delay = backoff_delay(attempt, base=base, cap=cap, rng=random.Random(seed))

    assert 0 <= delay <= min(cap, base * 2.0 ** min(attempt, 64))


@given(attempt=attempts, cap=caps, share=st.floats(min_value=0, max_value=1), seed=seeds)
def test_delay_never_undercuts_retry_after_and_never_exceeds_the_cap(attempt, cap, share, seed):
    retry_after = cap * share

    delay = backoff_delay(attempt, cap=cap, retry_after=retry_after, rng=random.Random(seed))

    assert retry_after <= delay <= cap


@given(attempt=attempts, excess=st.floats(min_value=0.001, max_value=10_000), seed=seeds)
def test_a_retry_after_beyond_the_cap_is_honoured(attempt, excess, seed):
    delay = backoff_delay(attempt, cap=300, retry_after=300 + excess, rng=random.Random(seed))

    assert delay == 300 + excess


class _Highest:
    def uniform(self, a: float, b: float) -> float:
        return b


@given(attempt=st.integers(min_value=0, max_value=100), base=bases, cap=caps)
def test_the_jitter_ceiling_doubles_per_attempt_until_the_cap(attempt, base, cap):
    this = backoff_delay(attempt, base=base, cap=cap, rng=_Highest())
    following = backoff_delay(attempt + 1, base=base, cap=cap, rng=_Highest())

    assert following == min(cap, 2 * this) or following == cap


def test_delay_grows_with_the_attempt_on_average():
    rng = random.Random(20240901)
    means = [statistics.fmean(backoff_delay(a, rng=rng) for _ in range(2000)) for a in range(MAX_ATTEMPTS)]

    assert means == sorted(means)
    assert means[-1] > 4 * means[0]
    assert means[0] == pytest.approx(0.5, abs=0.05)  # uniform over [0, 1 s]


def test_negative_attempt_is_a_bug():
    with pytest.raises(ValueError):
        backoff_delay(-1)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (" 1.5 ", 1.5), ("-3", 0.0), ("", None), (None, None), ("soon", None), ("inf", None)],
)
def test_parse_retry_after_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_dates():
    assert 55 < parse_retry_after(formatdate(time.time() + 60, usegmt=True)) <= 60
    assert parse_retry_after(formatdate(time.time() - 60, usegmt=True)) == 0.0
