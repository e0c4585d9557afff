"""MockFcm itself: FCM-shaped answers, deterministic fault rates, quota, throughput."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from backend.delivery.push.mock_fcm import FCM_ERROR_TYPE, MockFcm, Reply

SEND_PATH = "/v1/projects/p/messages:send"


def _post(conn: http.client.HTTPConnection, token: str, path: str = SEND_PATH, body: bytes | None = None):
    payload = (
        body if body is not None else json.dumps({"message": {"token": token, "data": {"k": "v"}}}).encode()
    )
    conn.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), json.loads(response.read())


def _connect(mock: MockFcm) -> http.client.HTTPConnection:
    parts = urlsplit(mock.url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)


def _tokens_answered(mock: MockFcm, tokens: list[str]) -> dict[str, int]:
    conn = _connect(mock)
    answers = {token: _post(conn, token)[0] for token in tokens}
    conn.close()
    return answers


def test_answers_like_fcm(start_mock):
    mock = start_mock(scripted={"gone": ["UNREGISTERED"], "busy": [Reply.UNAVAILABLE]}, retry_after=3)
    conn = _connect(mock)

    ok = _post(conn, "fine")
    gone = _post(conn, "gone")
    busy = _post(conn, "busy")
    bad = _post(conn, "bad-token")
    busy_again = _post(conn, "busy")

    assert ok[0] == 200
    assert ok[2]["name"].startswith("projects/p/messages/")
    assert gone[0] == 404
    assert gone[2]["error"]["status"] == "NOT_FOUND"
    assert gone[2]["error"]["details"] == [{"@type": FCM_ERROR_TYPE, "errorCode": "UNREGISTERED"}]
    assert (busy[0], busy[1]["Retry-After"], busy[2]["error"]["status"]) == (503, "3", "UNAVAILABLE")
    assert (bad[0], bad[2]["error"]["details"][0]["errorCode"]) == (400, "INVALID_ARGUMENT")
    assert busy_again[0] == 200  # the script is used up
    assert [t for t, _ in mock.received] == ["fine", "gone", "busy", "bad-token", "busy"]
    assert mock.replies == {"OK": 2, "UNREGISTERED": 1, "UNAVAILABLE": 1, "INVALID_ARGUMENT": 1}


def test_malformed_requests(start_mock):
    mock = start_mock()
    conn = _connect(mock)

    assert _post(conn, "t", path="/v1/projects/p/other")[0] == 404
    assert _post(conn, "t", body=b"{not json")[0] == 400
    assert _post(conn, "t", body=json.dumps({"message": {"token": "t", "data": {"n": 1}}}).encode())[0] == 400
    assert _post(conn, "t", body=json.dumps({"message": {"data": {}}}).encode())[0] == 400


def test_unregistered_rate_picks_the_same_tokens_whatever_the_order(start_mock):
    tokens = [f"device-{i}" for i in range(400)]
    first = start_mock(unregistered_rate=0.1, seed=7)
    second = start_mock(unregistered_rate=0.1, seed=7)

    forward = _tokens_answered(first, tokens)
    backward = _tokens_answered(second, list(reversed(tokens)))

    assert forward == backward
    assert 20 <= list(forward.values()).count(404) <= 60
    assert set(forward.values()) == {200, 404}
    gone = [t for t, status in forward.items() if status == 404]
    assert set(_tokens_answered(first, gone).values()) == {404}  # a gone token stays gone


def test_unavailable_rate_is_per_attempt_so_retries_get_through(start_mock):
    tokens = [f"device-{i}" for i in range(200)]
    mock = start_mock(unavailable_rate=0.5, seed=1)

    first = _tokens_answered(mock, tokens)
    failed = [t for t, status in first.items() if status == 503]
    second = _tokens_answered(mock, failed)

    assert 60 <= len(failed) <= 140
    assert 0 < list(second.values()).count(200) < len(failed)


def test_quota_per_second_window(start_mock):
    now = [50.2]
    mock = start_mock(quota_per_second=2, clock=lambda: now[0])

    in_first_second = _tokens_answered(mock, ["a", "b", "c"])
    now[0] = 51.0
    in_next_second = _tokens_answered(mock, ["d"])

    assert list(in_first_second.values()) == [200, 200, 429]
    assert in_next_second == {"d": 200}
    assert mock.replies["QUOTA_EXCEEDED"] == 1


def test_record_false_counts_without_keeping_payloads(start_mock):
    mock = start_mock(record=False)

    _tokens_answered(mock, ["a", "b"])

    assert mock.received == []
    assert mock.request_count == 2


def test_stop_refuses_connections_and_is_idempotent():
    mock = MockFcm().start()
    conn = _connect(mock)
    assert _post(conn, "a")[0] == 200

    mock.stop()
    mock.stop()

    with pytest.raises(OSError):
        _post(_connect(mock), "b")


def test_concurrent_clients_are_all_recorded(start_mock):
    mock = start_mock(latency=0.01)
    local = threading.local()

    def send(i: int) -> int:
        if not hasattr(local, "conn"):
            local.conn = _connect(mock)
        return _post(local.conn, f"t{i}")[0]

    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(send, range(640)))

    assert statuses == [200] * 640
    assert sorted(t for t, _ in mock.received) == sorted(f"t{i}" for i in range(640))


def test_answers_4000_keep_alive_requests_from_4_clients_at_once(start_mock):
    # Its speed is the push scenario's baseline in bench/ (a rate asserted here would
    # only measure how busy the machine is).
    mock = start_mock(record=False)
    per_client, clients = 1000, 4

    def client(_: int) -> list[int]:
        conn = _connect(mock)
        statuses = [_post(conn, f"t{i}")[0] for i in range(per_client)]
        conn.close()
        return statuses

    with ThreadPoolExecutor(clients) as pool:
        statuses = [s for part in pool.map(client, range(clients)) for s in part]

    assert statuses == [200] * (per_client * clients)
    assert mock.request_count == per_client * clients
