"""Messaging fixtures: a clock inside office hours, helpers to open conversations and
send messages over the API, app devices, and readers of the event log and outboxes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import count
from typing import Any

import pytest

from backend.delivery.rules import SHANGHAI
from tests.committing import committing_client_for, run  # noqa: F401 - run: imported by the tests

# Monday 10:00: inside default office hours (Mon–Fri 07:30–18:00), outside quiet hours.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)

_client_ids = count(1)
_tokens = count(1)


@pytest.fixture
def client_for() -> Callable[[Any], Any]:
    """Authenticated clients whose requests end as a committed transaction would."""
    return committing_client_for


@pytest.fixture(autouse=True)
def _clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def open_discussion(client_for: Callable[[Any], Any]) -> Callable[..., dict[str, Any]]:
    def make(teacher: Any, school_class: Any, **extra: Any) -> dict[str, Any]:
        body = {"kind": "discussion", "class_id": school_class.pk, "title": "春游安排", **extra}
        response = client_for(teacher).post("/api/v1/conversations/", body, format="json")
        assert response.status_code == 201, response.json()
        return dict(response.json())

    return make


@pytest.fixture
def open_direct(client_for: Callable[[Any], Any]) -> Callable[..., dict[str, Any]]:
    def make(user: Any, other: Any, student: Any = None) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "direct", "user_id": other.pk}
        if student is not None:
            body["student_id"] = student.pk
        response = client_for(user).post("/api/v1/conversations/", body, format="json")
        assert response.status_code in (200, 201), response.json()
        return dict(response.json())

    return make


@pytest.fixture
def send(client_for: Callable[[Any], Any]) -> Callable[..., Any]:
    """POST a message as `user`; returns the response."""

    def make(user: Any, conversation_id: int, body: str = "老师好，请问明天要带什么？", **extra: Any) -> Any:
        data = {"body": body, "client_id": extra.pop("client_id", f"c-{next(_client_ids)}"), **extra}
        return client_for(user).post(
            f"/api/v1/conversations/{conversation_id}/messages/", data, format="json"
        )

    return make


def with_app(user: Any) -> str:
    """Give `user` the app: a registered device and an app login. Returns the token."""
    from django.utils import timezone

    from backend.accounts.models import Device

    token = f"tok-{next(_tokens)}"
    Device.objects.create(user=user, platform="android", token=token)
    type(user).objects.filter(pk=user.pk).update(first_app_login_at=timezone.now())
    return token


def events(event_type: str) -> dict[int, list[dict[str, Any]]]:
    """The realtime event log of one type: {user_id: [data, …]}."""
    from backend.realtime.models import UserEvent

    log: dict[int, list[dict[str, Any]]] = {}
    for user_id, data in (
        UserEvent.objects.filter(type=event_type).order_by("id").values_list("user_id", "data")
    ):
        log.setdefault(user_id, []).append(data)
    return log


def pushed() -> list[Any]:
    from backend.delivery.push import push_backend

    return list(push_backend().outbox)


def texts() -> list[Any]:
    from backend.sms.outbox import sent_messages

    return sent_messages()
