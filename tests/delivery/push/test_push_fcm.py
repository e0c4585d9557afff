"""FcmPushBackend against MockFcm over real loopback HTTP (never the internet)."""

from __future__ import annotations

import json
import re
import time
from email.utils import formatdate

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from backend.delivery.push import PushOutcome, push_backend, reset_push_backend
from backend.delivery.push import fcm as fcm_module
from backend.delivery.push.fcm import FcmPushBackend
from backend.delivery.push.mock_fcm import Reply

PROJECT = "jiaxiao-test"


def test_sent_messages_carry_fcm_message_ids(start_mock, fcm_settings, message, settings):
    mock = start_mock()
    fcm_settings(mock)
    assert settings.FCM_PROJECT_ID == PROJECT

    results = push_backend().send([message("tok-a"), message("tok-b"), message("tok-c")])

    assert [r.token for r in results] == ["tok-a", "tok-b", "tok-c"]
    assert {r.outcome for r in results} == {PushOutcome.SENT}
    assert all(re.fullmatch(rf"projects/{PROJECT}/messages/\d+", r.message_id) for r in results)
    assert len({r.message_id for r in results}) == 3
    assert sorted(token for token, _ in mock.received) == ["tok-a", "tok-b", "tok-c"]


def test_empty_send_makes_no_request(start_mock, fcm_settings):
    mock = start_mock()
    fcm_settings(mock)

    assert push_backend().send([]) == []
    assert mock.received == []


def test_unregistered_token_is_to_be_dropped(start_mock, fcm_settings, message):
    mock = start_mock(scripted={"gone": [Reply.UNREGISTERED]})
    fcm_settings(mock)

    gone, kept = push_backend().send([message("gone"), message("kept")])

    assert (gone.outcome, gone.error_code, gone.drop_token) == (
        PushOutcome.UNREGISTERED,
        "UNREGISTERED",
        True,
    )
    assert (kept.outcome, kept.drop_token) == (PushOutcome.SENT, False)


def test_invalid_argument_blames_the_token_when_the_same_payload_reached_another_device(
    start_mock, fcm_settings, message
):
    mock = start_mock()
    fcm_settings(mock)

    good, bad = push_backend().send([message("fine-token"), message("bad-garbled")])

    assert good.outcome == PushOutcome.SENT
    assert (bad.outcome, bad.error_code, bad.drop_token) == (
        PushOutcome.INVALID_TOKEN,
        "INVALID_ARGUMENT",
        True,
    )


def test_invalid_argument_blames_the_payload_when_no_copy_got_through(start_mock, fcm_settings, message):
    mock = start_mock()
    fcm_settings(mock)

    results = push_backend().send([message("bad-1"), message("bad-2")])

    assert [(r.outcome, r.drop_token) for r in results] == [(PushOutcome.INVALID_PAYLOAD, False)] * 2
    assert len(mock.received) == 2


def test_a_payload_accepted_earlier_in_the_process_is_known_good(start_mock, fcm_settings, message):
    mock = start_mock()
    fcm_settings(mock)
    backend = push_backend()
    assert backend.send([message("fine-token")])[0].outcome == PushOutcome.SENT

    (later,) = backend.send([message("bad-stale")])
    (other_payload,) = backend.send([message("bad-stale", body="另一条内容")])

    assert later.outcome == PushOutcome.INVALID_TOKEN
    assert other_payload.outcome == PushOutcome.INVALID_PAYLOAD


def test_unavailable_with_retry_after_seconds_is_retried_after_that_delay(start_mock, fcm_settings, message):
    mock = start_mock(scripted={"busy": [Reply.UNAVAILABLE]}, retry_after=7)
    fcm_settings(mock)

    busy, fine = push_backend().send([message("busy"), message("fine")])

    assert (busy.outcome, busy.error_code, busy.retry_after) == (PushOutcome.RETRY, "UNAVAILABLE", 7.0)
    assert fine.outcome == PushOutcome.SENT
    # 503 is not retried inside the SDK: FCM saw each token exactly once.
    assert sorted(token for token, _ in mock.received) == ["busy", "fine"]


def test_retry_after_as_an_http_date(start_mock, fcm_settings, message):
    mock = start_mock(
        scripted={"busy": [Reply.UNAVAILABLE]}, retry_after=formatdate(time.time() + 120, usegmt=True)
    )
    fcm_settings(mock)

    (busy,) = push_backend().send([message("busy")])

    assert busy.outcome == PushOutcome.RETRY
    assert 100 < busy.retry_after <= 120


def test_quota_exceeded_is_retried(start_mock, fcm_settings, message):
    mock = start_mock(scripted={"hot": [Reply.QUOTA_EXCEEDED]})
    fcm_settings(mock)

    (hot,) = push_backend().send([message("hot")])

    assert (hot.outcome, hot.error_code, hot.retry_after) == (PushOutcome.RETRY, "QUOTA_EXCEEDED", None)


def test_over_quota_per_second_answers_retry_for_the_excess(start_mock, fcm_settings, message):
    now = [1000.0]
    mock = start_mock(quota_per_second=3, retry_after=1, clock=lambda: now[0])
    fcm_settings(mock)

    results = push_backend().send([message(f"t{i}") for i in range(5)])

    assert sorted(r.outcome for r in results) == [PushOutcome.RETRY] * 2 + [PushOutcome.SENT] * 3
    assert {r.retry_after for r in results if r.outcome == PushOutcome.RETRY} == {1.0}


@pytest.mark.parametrize(
    ("replies", "outcome", "code"),
    [
        ([Reply.INTERNAL], PushOutcome.RETRY, "INTERNAL"),
        ([Reply.SENDER_ID_MISMATCH], PushOutcome.FAILED, "SENDER_ID_MISMATCH"),
        # On a 401 google-auth refreshes the credentials and resends, twice, as in production.
        ([Reply.THIRD_PARTY_AUTH_ERROR] * 3, PushOutcome.FAILED, "THIRD_PARTY_AUTH_ERROR"),
    ],
)
def test_other_fcm_errors(start_mock, fcm_settings, message, replies, outcome, code):
    mock = start_mock(scripted={"tok": replies})
    fcm_settings(mock)

    (result,) = push_backend().send([message("tok")])

    assert (result.outcome, result.error_code, result.drop_token) == (outcome, code, False)
    assert len(mock.received) == len(replies)


def test_1200_messages_go_in_chunks_within_the_sdk_batch_limit(
    start_mock, fcm_settings, message, monkeypatch
):
    mock = start_mock()
    fcm_settings(mock)
    batch_sizes: list[int] = []
    send_each_async = fcm_module.messaging.send_each_async

    async def counting_send_each_async(messages, **kwargs):
        batch_sizes.append(len(messages))
        return await send_each_async(messages, **kwargs)

    monkeypatch.setattr(fcm_module.messaging, "send_each_async", counting_send_each_async)
    tokens = [f"device-{i:04d}" for i in range(1200)]

    results = push_backend().send([message(t) for t in tokens])

    assert sorted(batch_sizes) == [fcm_module.CHUNK_SIZE] * (1200 // fcm_module.CHUNK_SIZE)
    assert max(batch_sizes) <= fcm_module.BATCH_SIZE == 500
    assert [r.token for r in results] == tokens
    assert {r.outcome for r in results} == {PushOutcome.SENT}
    received = mock.received
    assert len(received) == 1200
    assert sorted(token for token, _ in received) == tokens


def test_payload_shape_as_fcm_receives_it(start_mock, fcm_settings, message):
    mock = start_mock()
    fcm_settings(mock)
    before = int(time.time())

    push_backend().send(
        [
            message("urgent-dev", urgent=True, collapse_key="notice-42", ttl_seconds=3600),
            message("calm-dev", data={"type": "chat.message", "thread_id": "9"}),
        ]
    )

    payloads = dict(mock.received)
    urgent, calm = payloads["urgent-dev"], payloads["calm-dev"]
    assert urgent["notification"]["title"].startswith("新通知")
    assert urgent["notification"]["body"] == "明天上午九点家长会，请准时参加。"
    assert urgent["data"] == {"type": "notice.created", "notice_id": "42", "class_id": "7"}
    assert urgent["android"]["priority"] == "high"
    assert urgent["android"]["ttl"] == "3600s"
    assert urgent["android"]["collapse_key"] == "notice-42"
    headers = urgent["apns"]["headers"]
    assert headers["apns-priority"] == "10"
    assert headers["apns-collapse-id"] == "notice-42"
    assert before + 3600 <= int(headers["apns-expiration"]) <= int(time.time()) + 3600
    assert urgent["apns"]["payload"]["aps"]["sound"] == "default"

    assert calm["data"] == {"type": "chat.message", "thread_id": "9"}
    assert calm["android"] == {"priority": "normal"}
    assert calm["apns"] == {"headers": {"apns-priority": "5", "apns-push-type": "alert"}}


def test_fcm_unreachable_means_retry_for_every_message_and_no_exception(start_mock, fcm_settings, message):
    mock = start_mock()
    fcm_settings(mock)
    mock.stop()

    results = push_backend().send([message(f"t{i}") for i in range(600)])

    assert len(results) == 600
    assert {(r.outcome, r.error_code) for r in results} == {(PushOutcome.RETRY, "UNAVAILABLE")}


def test_slow_fcm_beyond_the_http_timeout_is_retried(start_mock, fcm_settings, message, settings):
    mock = start_mock(latency=1.0)
    fcm_settings(mock)
    settings.FCM_HTTP_TIMEOUT = 0.2
    reset_push_backend()

    started = time.monotonic()
    (result,) = push_backend().send([message("tok")])

    assert (result.outcome, result.error_code) == (PushOutcome.RETRY, "DEADLINE_EXCEEDED")
    assert time.monotonic() - started < 0.9


def _service_account(path, token_uri):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "test-key",
                "private_key": pem,
                "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return str(path)


def test_service_account_credentials_fetch_a_token_then_send(
    start_mock, fcm_settings, message, settings, tmp_path
):
    mock = start_mock()
    fcm_settings(mock)
    settings.FCM_CREDENTIALS_FILE = _service_account(tmp_path / "sa.json", f"{mock.url}/token")
    reset_push_backend()

    results = push_backend().send([message("a"), message("b")])

    assert {r.outcome for r in results} == {PushOutcome.SENT}
    assert mock.token_requests == 1


def test_token_endpoint_down_is_a_batch_level_retry_before_anything_is_sent(
    start_mock, fcm_settings, message, settings, tmp_path
):
    mock = start_mock()
    dead = start_mock()
    dead.stop()
    fcm_settings(mock)
    settings.FCM_CREDENTIALS_FILE = _service_account(tmp_path / "sa.json", f"{dead.url}/token")
    reset_push_backend()

    results = push_backend().send([message("a"), message("b")])

    assert {(r.outcome, r.error_code) for r in results} == {(PushOutcome.RETRY, "UNAVAILABLE")}
    assert mock.received == []


def test_missing_credentials_file_fails_every_message_without_raising(
    start_mock, fcm_settings, message, settings
):
    mock = start_mock()
    fcm_settings(mock)
    settings.FCM_CREDENTIALS_FILE = "/nonexistent/firebase.json"
    reset_push_backend()

    results = push_backend().send([message("a"), message("b")])

    assert {(r.outcome, r.error_code) for r in results} == {(PushOutcome.FAILED, "CONFIGURATION")}
    assert mock.received == []


def test_backend_follows_the_settings_after_a_reset(start_mock, fcm_settings, message):
    first, second = start_mock(), start_mock()
    fcm_settings(first)
    backend = push_backend()
    assert isinstance(backend, FcmPushBackend)
    assert push_backend() is backend
    backend.send([message("a")])

    fcm_settings(second)  # resets
    push_backend().send([message("b")])

    assert [t for t, _ in first.received] == ["a"]
    assert [t for t, _ in second.received] == ["b"]


def test_endpoint_without_project_is_a_configuration_error(settings):
    settings.PUSH_BACKEND = "fcm"
    settings.FCM_ENDPOINT = "http://127.0.0.1:9"
    settings.FCM_PROJECT_ID = None

    with pytest.raises(ImproperlyConfigured):
        push_backend()
