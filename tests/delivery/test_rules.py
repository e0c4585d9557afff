"""The channel-choice matrix and quiet hours, as tables."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.delivery.rules import SHANGHAI, Recipient, Timing, plan_channels, quiet_until

NOW, HELD, NO, DIGEST = Timing.NOW, Timing.HELD, Timing.NO, Timing.DIGEST


@pytest.mark.parametrize(
    ("recipient", "urgent", "quiet", "expected"),
    [
        # online app user: the socket is enough
        (Recipient(online=True, has_app=True), False, False, (NO, NO)),
        # offline app user: push
        (Recipient(online=False, has_app=True), False, False, (NOW, NO)),
        # no app: SMS
        (Recipient(online=False, has_app=False), False, False, (NO, NOW)),
        # prefers SMS: push and SMS
        (Recipient(online=False, has_app=True, prefers_sms=True), False, False, (NOW, NOW)),
        # quiet hours hold both
        (Recipient(online=False, has_app=True), False, True, (HELD, NO)),
        (Recipient(online=False, has_app=False), False, True, (NO, HELD)),
        # urgent: push to every app user even online, SMS at once even at night
        (Recipient(online=True, has_app=True), True, True, (NOW, NO)),
        (Recipient(online=False, has_app=False), True, True, (NO, NOW)),
        # SMS turned off: nothing unless urgent
        (Recipient(online=False, has_app=False, sms_enabled=False), False, False, (NO, NO)),
        (Recipient(online=False, has_app=False, sms_enabled=False), True, False, (NO, NOW)),
        # no valid number: never SMS
        (Recipient(online=False, has_app=False, reachable_by_sms=False), True, False, (NO, NO)),
        # digest users get the summary, not an instant push
        (Recipient(online=False, has_app=True, digest=True), False, False, (DIGEST, NO)),
        (Recipient(online=False, has_app=True, digest=True), True, False, (NOW, NO)),
        # muted topic: silent unless urgent
        (Recipient(online=False, has_app=True, muted=True), False, False, (NO, NO)),
        (Recipient(online=False, has_app=True, muted=True), True, False, (NOW, NO)),
    ],
)
def test_channel_matrix(recipient, urgent, quiet, expected):
    plan = plan_channels(recipient, urgent=urgent, quiet=quiet, sms_offered=True)
    assert (plan.push, plan.sms) == expected


def test_no_sms_when_sender_offers_none():
    plan = plan_channels(Recipient(online=False, has_app=False), urgent=True, quiet=False, sms_offered=False)
    assert plan.sms == NO


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(20, 59), None),
        (at(21, 0), at(7, 0, day=24)),
        (at(23, 30), at(7, 0, day=24)),
        (at(0, 10), at(7, 0)),
        (at(6, 59), at(7, 0)),
        (at(7, 0), None),
        (at(12, 0), None),
    ],
)
def test_quiet_hours_across_midnight(now, expected):
    assert quiet_until(now, time(21, 0), time(7, 0)) == expected


def test_quiet_hours_in_utc_input_are_read_in_shanghai():
    utc_1430 = datetime(2026, 11, 23, 14, 30, tzinfo=SHANGHAI).astimezone(SHANGHAI.__class__("UTC"))
    assert quiet_until(utc_1430, time(12, 0), time(15, 0)) == at(15, 0)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)), st.times(), st.times())
def test_quiet_until_is_in_the_future_and_ends_the_window(naive, start, end):
    now = naive.replace(tzinfo=SHANGHAI)
    until = quiet_until(now, start, end)
    if until is not None:
        assert until > now
        assert until.astimezone(SHANGHAI).time() == end
        assert quiet_until(until, start, end) is None
