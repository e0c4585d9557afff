"""push_backend() selection and the console and memory backends."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.delivery.push import PushMessage, PushOutcome, push_backend, reset_push_backend
from backend.delivery.push.console import ConsolePushBackend
from backend.delivery.push.memory import MemoryPushBackend

LONG_TOKEN = "fGx2Yk9dQ0u3-app-instance:APA91bH" + "x" * 120


@pytest.mark.parametrize(("name", "cls"), [("console", ConsolePushBackend), ("memory", MemoryPushBackend)])
def test_push_backend_is_built_once_from_settings(settings, name, cls):
    settings.PUSH_BACKEND = name

    backend = push_backend()

    assert isinstance(backend, cls)
    assert push_backend() is backend
    reset_push_backend()
    assert push_backend() is not backend


def test_console_is_the_default(settings):
    del settings.PUSH_BACKEND

    assert isinstance(push_backend(), ConsolePushBackend)


def test_unknown_backend_is_a_configuration_error(settings):
    settings.PUSH_BACKEND = "apns-direct"

    with pytest.raises(ImproperlyConfigured):
        push_backend()


def test_console_prints_a_line_per_push_and_keeps_an_outbox():
    out = io.StringIO()
    backend = ConsolePushBackend(stream=out)
    first = PushMessage(token=LONG_TOKEN, title="新通知：家长会", body="周五下午", urgent=True)
    second = PushMessage(token="short", title="作业提醒", body="数学")

    results = backend.send([first, second])

    assert [r.outcome for r in results] == [PushOutcome.SENT, PushOutcome.SENT]
    assert results[0].message_id != results[1].message_id
    assert out.getvalue().splitlines() == [
        "[push] fGx2Yk9dQ0u3… 新通知：家长会 [urgent]",
        "[push] short 作业提醒",
    ]
    assert list(backend.outbox) == [first, second]


def test_memory_records_sent_messages_in_order():
    backend = MemoryPushBackend()
    messages = [PushMessage(token=f"t{i}", title="通知", body=str(i)) for i in range(3)]

    results = backend.send(messages)

    assert [r.token for r in results] == ["t0", "t1", "t2"]
    assert {r.outcome for r in results} == {PushOutcome.SENT}
    assert backend.outbox == messages
    assert backend.sent_to("t1") == [messages[1]]


def test_memory_answers_the_scripted_outcomes_then_sent():
    backend = MemoryPushBackend()
    backend.script("flaky", [PushOutcome.RETRY, PushOutcome.RETRY, PushOutcome.SENT], retry_after=30)
    backend.script("gone", [PushOutcome.UNREGISTERED])
    flaky = PushMessage(token="flaky", title="通知", body="正文")
    gone = PushMessage(token="gone", title="通知", body="正文")

    rounds = [backend.send([flaky, gone]) for _ in range(4)]

    assert [r[0].outcome for r in rounds] == [
        PushOutcome.RETRY,
        PushOutcome.RETRY,
        PushOutcome.SENT,
        PushOutcome.SENT,
    ]
    assert rounds[0][0].retry_after == 30
    assert rounds[0][0].error_code == "UNAVAILABLE"
    assert (rounds[0][1].outcome, rounds[0][1].drop_token) == (PushOutcome.UNREGISTERED, True)
    assert backend.sent_to("flaky") == [flaky, flaky]
    assert len(backend.attempts) == 8


def test_memory_clear_forgets_scripts_and_outbox():
    backend = MemoryPushBackend()
    backend.script("t", [PushOutcome.FAILED])
    backend.send([PushMessage(token="x", title="a", body="b")])

    backend.clear()

    assert backend.outbox == []
    assert backend.attempts == []
    assert backend.send([PushMessage(token="t", title="a", body="b")])[0].outcome == PushOutcome.SENT


@pytest.mark.parametrize(
    "fields",
    [
        {"token": ""},
        {"data": {"notice_id": 42}},
        {"data": {"from": "school"}},
        {"data": {"google.c.a": "1"}},
        {"ttl_seconds": -1},
        {"ttl_seconds": 2_419_201},
        {"collapse_key": "通" * 22},  # 66 bytes in UTF-8
    ],
)
def test_push_message_refuses_what_fcm_would_reject(fields):
    values = {"token": "t", "title": "a", "body": "b"} | fields

    with pytest.raises(ValueError):
        PushMessage(**values)
