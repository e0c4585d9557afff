"""Fixtures for the push transport: a MockFcm on loopback and settings pointing at it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.delivery.push import PushMessage, reset_push_backend
from backend.delivery.push.mock_fcm import MockFcm

PROJECT = "jiaxiao-test"  # also in test_push_fcm.py (test dirs are not packages)


@pytest.fixture(autouse=True)
def _fresh_push_backend() -> Iterator[None]:
    reset_push_backend()
    yield
    reset_push_backend()


@pytest.fixture
def start_mock() -> Iterator[Callable[..., MockFcm]]:
    """Start a MockFcm with the given options; every one started is stopped afterwards."""
    started: list[MockFcm] = []

    def start(**options: Any) -> MockFcm:
        mock = MockFcm(**options).start()
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()


@pytest.fixture
def fcm_settings(settings: Any) -> Callable[[MockFcm], None]:
    """Point PUSH_BACKEND=fcm at a mock, anonymously (no credentials file)."""

    def point(mock: MockFcm) -> None:
        settings.PUSH_BACKEND = "fcm"
        settings.FCM_PROJECT_ID = PROJECT
        settings.FCM_ENDPOINT = mock.url
        settings.FCM_CREDENTIALS_FILE = None
        settings.FCM_HTTP_TIMEOUT = 5.0
        reset_push_backend()

    return point


@pytest.fixture
def message() -> Callable[..., PushMessage]:
    """A notice push; every call in a test shares one payload unless told otherwise, and
    payloads differ between tests (FCM's known-good-payload memory is per process)."""
    title = f"新通知 {uuid.uuid4().hex[:8]}"

    def make(token: str, **fields: Any) -> PushMessage:
        fields.setdefault("title", title)
        fields.setdefault("body", "明天上午九点家长会，请准时参加。")
        fields.setdefault("data", {"type": "notice.created", "notice_id": "42", "class_id": "7"})
        return PushMessage(token=token, **fields)

    return make
