"""send_event_on_commit: the event log, per-user sequence numbers and publishing."""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction

from backend.realtime import services
from backend.realtime.models import UserEvent, UserEventCounter
from backend.realtime.publishing import GIVE_UP_AFTER_FAILURES
from backend.realtime.services import send_event_on_commit

from .conftest import TEST_EVENT

pytestmark = pytest.mark.django_db


def seqs(user: Any) -> list[int]:
    return list(UserEvent.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))


class RecordingLayer:
    """Stands in for the channel layer to see what would be published."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail
        self.calls = 0

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.calls += 1
        if self.fail:
            raise ConnectionError("Redis is down")
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> RecordingLayer:
    recording = RecordingLayer()
    monkeypatch.setattr("backend.realtime.publishing.get_channel_layer", lambda: recording)
    return recording


def test_each_user_gets_the_next_number_of_their_own_sequence(make_users: Any, layer: RecordingLayer) -> None:
    a, b, c = make_users(3)
    with transaction.atomic():
        send_event_on_commit([a, b], TEST_EVENT, {"n": 1})
    with transaction.atomic():
        send_event_on_commit([b.pk, c.pk, b], TEST_EVENT, {"n": 2})  # ids, objects, duplicates
    assert (seqs(a), seqs(b), seqs(c)) == ([1], [1, 2], [1])
    assert dict(UserEventCounter.objects.values_list("user_id", "last_seq")) == {a.pk: 1, b.pk: 2, c.pk: 1}
    event = UserEvent.objects.get(user=b, seq=2)
    assert (event.type, event.data) == (TEST_EVENT, {"n": 2})


def test_nothing_is_published_before_commit_and_each_group_gets_its_frame(
    make_users: Any, layer: RecordingLayer, django_capture_on_commit_callbacks: Any
) -> None:
    a, b = make_users(2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_event_on_commit([a, b], TEST_EVENT, {"n": 7})
        assert layer.sent == []
    assert len(callbacks) == 1
    by_group = dict(layer.sent)
    assert set(by_group) == {f"user.{a.pk}", f"user.{b.pk}"}
    frame = by_group[f"user.{a.pk}"]["frame"]
    assert by_group[f"user.{a.pk}"]["type"] == "realtime.event"
    assert (frame["type"], frame["seq"], frame["data"]) == (TEST_EVENT, 1, {"n": 7})
    assert frame["ts"].endswith("+08:00")


def test_rollback_leaves_no_row_no_number_and_no_publish(
    make_users: Any, layer: RecordingLayer, django_capture_on_commit_callbacks: Any
) -> None:
    [a] = make_users(1)

    def send_then_fail() -> None:
        with transaction.atomic():
            send_event_on_commit([a], TEST_EVENT, {"n": 1})
            raise RuntimeError("the notice could not be saved")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        send_then_fail()
    assert UserEvent.objects.count() == 0
    assert layer.sent == []
    with transaction.atomic():
        send_event_on_commit([a], TEST_EVENT, {"n": 2})
    assert seqs(a) == [1]


def _statements_per_chunk() -> int:
    # PostgreSQL: the counter upsert and the event insert are one statement (a CTE).
    return 1 if connection.vendor == "postgresql" else 2


def test_query_count_is_constant_for_10_or_200_users(make_users: Any, django_assert_num_queries: Any) -> None:
    for n in (10, 200):
        users = make_users(n)
        with transaction.atomic(), django_assert_num_queries(_statements_per_chunk()):
            send_event_on_commit(users, TEST_EVENT, {"n": n})
        assert UserEvent.objects.filter(user__in=users, seq=1).count() == n


def test_large_fan_outs_go_in_chunks_with_correct_numbers(
    make_users: Any, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    monkeypatch.setattr(services, "FANOUT_CHUNK_SIZE", 3)
    users = make_users(10)
    with transaction.atomic():
        send_event_on_commit(users[:4], TEST_EVENT, {"n": 1})
    with transaction.atomic(), django_assert_num_queries(4 * _statements_per_chunk()):  # 4 chunks
        send_event_on_commit(reversed(users), TEST_EVENT, {"n": 2})
    assert [seqs(u) for u in users] == [[1, 2]] * 4 + [[1]] * 6


def test_no_recipients_is_a_no_op(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        send_event_on_commit([], TEST_EVENT, {"n": 1})


def test_dates_in_data_read_back_as_they_were_sent(
    make_users: Any, layer: RecordingLayer, django_capture_on_commit_callbacks: Any
) -> None:
    [a] = make_users(1)
    with django_capture_on_commit_callbacks(execute=True):
        send_event_on_commit([a], "test.loose", {"day": date(2026, 3, 1), "中文": "家长"})
    assert UserEvent.objects.get(user=a).data == {"day": "2026-03-01", "中文": "家长"}
    assert layer.sent[0][1]["frame"]["data"] == {"day": "2026-03-01", "中文": "家长"}


def test_unregistered_type_is_refused_and_writes_nothing(make_users: Any) -> None:
    [a] = make_users(1)
    with pytest.raises(ValueError, match="unregistered"):
        send_event_on_commit([a], "test.never_registered", {"n": 1})
    assert not UserEvent.objects.exists()
    assert not UserEventCounter.objects.exists()


def test_data_is_validated_against_the_schema_when_enabled(make_users: Any, settings: Any) -> None:
    [a] = make_users(1)
    settings.REALTIME_VALIDATE_EVENTS = True
    for bad in ({"n": "1"}, {}, {"n": 1, "extra": True}):
        with pytest.raises(ValueError, match="schema"):
            send_event_on_commit([a], TEST_EVENT, bad)
    assert not UserEvent.objects.exists()
    settings.REALTIME_VALIDATE_EVENTS = False
    with transaction.atomic():
        send_event_on_commit([a], TEST_EVENT, {"n": "not checked in production"})
    assert seqs(a) == [1]


def test_oversized_or_non_mapping_data_is_refused(make_users: Any) -> None:
    [a] = make_users(1)
    with pytest.raises(ValueError, match="larger"):
        send_event_on_commit([a], "test.loose", {"text": "字" * 30000})
    with pytest.raises(TypeError):
        send_event_on_commit([a], "test.loose", ["n", 1])  # type: ignore[arg-type]
    assert not UserEvent.objects.exists()


def test_publish_failure_is_logged_and_the_event_stays_in_the_log(
    make_users: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    down = RecordingLayer(fail=True)
    monkeypatch.setattr("backend.realtime.publishing.get_channel_layer", lambda: down)
    users = make_users(200)
    with (
        caplog.at_level(logging.WARNING, "backend.realtime"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_event_on_commit(users, TEST_EVENT, {"n": 1})
    assert UserEvent.objects.count() == 200
    assert "200 of 200 group sends failed" in caplog.text
    assert down.calls == GIVE_UP_AFTER_FAILURES  # stops hammering a dead Redis


def test_disconnect_is_published_on_commit_only(
    make_users: Any, layer: RecordingLayer, django_capture_on_commit_callbacks: Any
) -> None:
    [a] = make_users(1)

    def deactivate_then_fail() -> None:
        with transaction.atomic():
            services.realtime_disconnect_user_on_commit(a.pk)
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        deactivate_then_fail()
    assert layer.sent == []
    with django_capture_on_commit_callbacks(execute=True):
        services.realtime_disconnect_user_on_commit(a.pk)
    assert layer.sent == [(f"user.{a.pk}", {"type": "realtime.disconnect"})]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_never_repeat_or_skip_a_number(make_users: Any, layer: RecordingLayer) -> None:
    """Eight threads fan out to overlapping users in opposite orders, each holding its
    transaction open a moment: per user the numbers are exactly 1..N (and no deadlock)."""
    users = make_users(12)
    rounds, threads_n = 5, 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_n)

    def sender(k: int) -> None:
        try:
            recipients = users[k % 3 :] if k % 2 else list(reversed(users))
            barrier.wait()
            for r in range(rounds):
                with transaction.atomic():
                    send_event_on_commit(recipients, TEST_EVENT, {"n": k * 100 + r})
                    connection.cursor().execute("SELECT pg_sleep(0.005)")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for user in users:
        expected = sum(rounds for k in range(threads_n) if not k % 2 or user in users[k % 3 :])
        assert seqs(user) == list(range(1, expected + 1))
        assert UserEventCounter.objects.get(user=user).last_seq == expected
