"""How FcmPushBackend talks to FCM: one long-lived event loop and connection pool per
process, bounded concurrency, a pace cap, no retries in place, and clean shutdown. Against
MockFcm over real loopback HTTP (never the internet)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter

import httpx
import pytest

from backend.delivery.push import PushOutcome, push_backend, reset_push_backend
from backend.delivery.push import fcm as fcm_module
from backend.delivery.push.mock_fcm import MockFcm, Reply


@pytest.fixture
def connections(monkeypatch):
    """Counts the TCP connections the backend opens to FCM."""
    opened: list[tuple[str, int]] = []
    open_connection = asyncio.open_connection

    async def counting(host, port, **kwargs):
        opened.append((host, port))
        return await open_connection(host, port, **kwargs)

    monkeypatch.setattr(fcm_module.asyncio, "open_connection", counting)
    return opened


def test_connections_are_kept_alive_across_sends(start_mock, fcm_settings, message, settings, connections):
    mock = start_mock()
    fcm_settings(mock)
    settings.FCM_CONCURRENCY = 4
    reset_push_backend()
    backend = push_backend()

    first = backend.send([message(f"a-{i}") for i in range(40)])
    second = backend.send([message(f"b-{i}") for i in range(40)])

    assert {r.outcome for r in first + second} == {PushOutcome.SENT}
    assert len(mock.received) == 80
    # At most FCM_CONCURRENCY connections, and the second send opened none.
    assert 1 <= len(connections) <= 4


def test_no_more_requests_in_flight_than_the_concurrency(
    start_mock, fcm_settings, message, settings, connections
):
    mock = start_mock(latency=0.1)
    fcm_settings(mock)
    settings.FCM_CONCURRENCY = 5
    reset_push_backend()

    started = time.monotonic()
    results = push_backend().send([message(f"t-{i}") for i in range(25)])
    elapsed = time.monotonic() - started

    assert {r.outcome for r in results} == {PushOutcome.SENT}
    assert len(connections) <= 5
    # 25 answers of 100 ms each, at most 5 at a time: at least 5 rounds.
    assert elapsed >= 0.5


def test_the_pace_caps_requests_per_second(start_mock, fcm_settings, message, settings):
    mock = start_mock()
    fcm_settings(mock)
    settings.FCM_MAX_PER_SECOND = 200
    reset_push_backend()
    backend = push_backend()

    started = time.monotonic()
    results = backend.send([message(f"t-{i}") for i in range(300)])
    elapsed = time.monotonic() - started

    assert {r.outcome for r in results} == {PushOutcome.SENT}
    assert len(mock.received) == 300
    # One chunk (100) may go at once; the other 200 wait for the pace: 200 / 200 per s.
    assert elapsed >= 0.95


def test_pace_never_lets_more_than_rate_plus_one_chunk_through_in_a_second():
    async def run() -> list[float]:
        pace = fcm_module._Pace(rate=1000, burst=100)
        starts: list[float] = []
        for _ in range(25):
            await pace.wait(100)
            starts.append(time.monotonic())
        return starts

    starts = asyncio.run(run())

    # 2,500 messages at 1,000/s with a 100-message bucket: about 2.4 s in all.
    assert starts[-1] - starts[0] >= 2.3
    for i, start in enumerate(starts):
        in_window = sum(1 for later in starts[i:] if later - start < 1.0)
        assert in_window * 100 <= 1000 + 100


def test_5xx_is_answered_as_retry_with_no_retry_in_place(start_mock, fcm_settings, message):
    mock = start_mock(
        scripted={"busy": [Reply.UNAVAILABLE, Reply.UNAVAILABLE], "broken": [Reply.INTERNAL]}, retry_after=3
    )
    fcm_settings(mock)

    busy, broken, fine = push_backend().send([message("busy"), message("broken"), message("fine")])

    assert (busy.outcome, busy.error_code, busy.retry_after) == (PushOutcome.RETRY, "UNAVAILABLE", 3.0)
    assert (broken.outcome, broken.error_code) == (PushOutcome.RETRY, "INTERNAL")
    assert fine.outcome == PushOutcome.SENT
    # One request per token: neither the SDK nor the transport retried or slept.
    assert Counter(token for token, _ in mock.received) == {"busy": 1, "broken": 1, "fine": 1}


def test_connections_the_server_closed_are_not_reused(start_mock, fcm_settings, message, settings):
    mock = start_mock()
    fcm_settings(mock)
    backend = push_backend()
    assert {r.outcome for r in backend.send([message(f"a-{i}") for i in range(20)])} == {PushOutcome.SENT}

    # FCM restarts on the same address: every idle keep-alive connection is closed under us.
    port = mock.port
    mock.stop()
    time.sleep(0.1)
    again = start_mock(port=port)

    results = backend.send([message(f"b-{i}") for i in range(20)])

    assert {r.outcome for r in results} == {PushOutcome.SENT}
    assert sorted(t for t, _ in again.received) == sorted(f"b-{i}" for i in range(20))


def test_closing_the_backend_stops_its_thread_and_a_new_one_starts_fresh(start_mock, fcm_settings, message):
    mock = start_mock()
    fcm_settings(mock)
    push_backend().send([message("a")])
    threads = [r.thread for r in fcm_module._runtimes.values()]
    assert threads
    assert all(t.is_alive() for t in threads)

    reset_push_backend()

    assert not any(t.is_alive() for t in threads)
    assert fcm_module._runtimes == {}
    (result,) = push_backend().send([message("b")])
    assert result.outcome == PushOutcome.SENT
    assert [t for t, _ in mock.received] == ["a", "b"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_sends_with_its_own_loop(start_mock, fcm_settings, message):
    # Celery's prefork pool forks workers; a loop thread does not survive a fork.
    mock = start_mock()
    fcm_settings(mock)
    backend = push_backend()
    assert backend.send([message("parent")])[0].outcome == PushOutcome.SENT

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            (result,) = backend.send([message("child")])
            os._exit(0 if result.outcome == PushOutcome.SENT else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(t for t, _ in mock.received) == ["child", "parent"]
    again = backend.send([message("parent-again")])[0]
    assert again.outcome == PushOutcome.SENT, again


def test_an_egress_proxy_in_the_environment_is_used(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    transport = fcm_module._transport(fcm_module.FcmConfig())

    assert isinstance(transport, httpx.AsyncHTTPTransport)

    monkeypatch.setenv("NO_PROXY", "fcm.googleapis.com")
    assert isinstance(fcm_module._transport(fcm_module.FcmConfig()), fcm_module._Http11Transport)


def test_bad_concurrency_or_pace_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        fcm_module.FcmConfig(concurrency=0)
    with pytest.raises(ImproperlyConfigured):
        fcm_module.FcmConfig(max_per_second=0)


def test_mock_fcm_is_only_reached_on_loopback(start_mock):
    # Guard for the tests above: the mock they talk to is local.
    mock: MockFcm = start_mock()
    assert mock.url.startswith("http://127.0.0.1:")


def test_requests_carry_the_sdk_headers_before_and_after_a_fork(
    start_mock, fcm_settings, message, monkeypatch
):
    seen: list[httpx.Headers] = []
    handle = fcm_module._Http11Transport.handle_async_request

    async def spy(self, request):
        seen.append(request.headers)
        return await handle(self, request)

    monkeypatch.setattr(fcm_module._Http11Transport, "handle_async_request", spy)
    mock = start_mock()
    fcm_settings(mock)
    backend = push_backend()
    backend.send([message("a")])
    # What a forked child does with the runtime it inherited, done here in-process.
    runtime = next(iter(fcm_module._runtimes.values()))
    runtime.pid = -1
    try:
        backend.send([message("b")])
    finally:
        fcm_module._inherited.remove(runtime)
        runtime.pid = os.getpid()
        runtime.close()  # in a real child it stays; here its thread must not outlive the test

    assert len(seen) == 2
    for headers in seen:
        assert headers["x-goog-api-format-version"] == "2"
        assert headers["x-firebase-client"].startswith("fire-admin-python/")
        assert "gl-python/" in headers["x-goog-api-client"]
    assert not runtime.thread.is_alive()
    assert [t for t, _ in mock.received] == ["a", "b"]


class _TimeLimit(Exception):
    """Stands in for Celery's SoftTimeLimitExceeded, raised by a signal in the main thread."""


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_a_send_interrupted_by_a_time_limit_stops_its_requests(start_mock, fcm_settings, message):
    mock = start_mock(latency=2.0)
    fcm_settings(mock)
    backend = push_backend()
    backend.send([])  # nothing: no runtime yet
    assert backend.send([message("warm")]) != []  # the runtime exists (2 s)

    def limit(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, limit)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(_TimeLimit):
            backend.send([message(f"t-{i}") for i in range(10)])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    runtime = next(iter(fcm_module._runtimes.values()))

    async def pending() -> int:
        await asyncio.sleep(0.1)  # let the cancellation run
        return len(asyncio.all_tasks()) - 1

    assert runtime.run(pending()) == 0  # no request of the interrupted send is still waiting
    # And the backend still works afterwards.
    assert {r.outcome for r in backend.send([message("after")])} == {PushOutcome.SENT}
