"""Fixtures for the accounts tests: logging in over HTTP, a fixed clock, the SMS outbox."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

PASSWORD = "pw-123456"  # the password of every person in the `world` fixture
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday 08:00 in Shanghai: minute, hour and day windows all start here.
START = datetime(2026, 3, 2, 8, 0, 0, tzinfo=SHANGHAI)
CODE = re.compile(r"\d{6}")


@pytest.fixture
def clock(time_machine: Any) -> Any:
    """The clock stopped at START; `clock.shift(timedelta)` moves it."""
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def password_login(api: Any) -> Callable[..., Any]:
    def post(login: str, password: str = PASSWORD, *, ip: str = "10.0.0.1") -> Any:
        return api.post(
            "/api/v1/auth/token/", {"login": login, "password": password}, format="json", REMOTE_ADDR=ip
        )

    return post


@pytest.fixture
def outbox() -> Iterator[Callable[[], list[Any]]]:
    """What the SMS layer has sent in this test: a list of messages with .phone and .text."""
    from backend.sms.outbox import clear_outbox, sent_messages

    clear_outbox()
    yield sent_messages
    clear_outbox()


@pytest.fixture
def request_code(api: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST auth/sms-code/ and run what it queued for after commit (the text itself)."""

    def post(phone: str, *, ip: str = "10.0.0.1") -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return api.post("/api/v1/auth/sms-code/", {"phone": phone}, format="json", REMOTE_ADDR=ip)

    return post


@pytest.fixture
def sms_login(api: Any) -> Callable[..., Any]:
    def post(phone: str, code: str, *, ip: str = "10.0.0.1") -> Any:
        return api.post(
            "/api/v1/auth/token/sms/", {"phone": phone, "code": code}, format="json", REMOTE_ADDR=ip
        )

    return post


@pytest.fixture
def last_code(outbox: Callable[[], list[Any]]) -> Callable[[str], str]:
    """The code in the latest text sent to `phone`."""

    def find(phone: str) -> str:
        texts = [m.text for m in outbox() if m.phone == phone]
        assert texts, f"no text was sent to {phone}"
        match = CODE.search(texts[-1])
        assert match, texts[-1]
        return match.group()

    return find
