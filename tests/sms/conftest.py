"""Fixtures for the SMS app: funded accounts on the `world`, the in-memory provider, the
webhook token, and helpers to run what commits would trigger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from backend.sms.models import SmsAccount

CALLBACK_TOKEN = "test-callback-token"


@dataclass
class Funded:
    bureau: SmsAccount  # 西工区 (counties[0])
    school: SmsAccount  # schools[0], funded by the bureau
    other_school: SmsAccount  # schools[1] (another district, funded by an operator)


@pytest.fixture
def funded(world: Any) -> Funded:
    from backend.sms.services import sms_account_create, sms_account_top_up, sms_account_transfer

    bureau = sms_account_create(org=world.counties[0], signature="【西工区教育局】")
    sms_account_top_up(account=bureau, segments=10_000)
    school = sms_account_create(org=world.schools[0], signature="【西工区第一小学】")
    sms_account_transfer(source=bureau, target=school, segments=1_000)
    other = sms_account_create(org=world.schools[1], signature="【老城区第一小学】")
    sms_account_top_up(account=other, segments=500)
    for account in (bureau, school, other):
        account.refresh_from_db()
    return Funded(bureau, school, other)


@pytest.fixture
def memory() -> Any:
    from backend.sms.outbox import memory_provider

    return memory_provider()


@pytest.fixture
def callback_token(settings: Any) -> str:
    settings.SMS_CALLBACK_TOKEN = CALLBACK_TOKEN
    settings.SMS_CALLBACK_IPS = []
    return CALLBACK_TOKEN


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run `fn` and then everything it queued for after commit (tasks run eagerly)."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def post_callback(
    api: Any, callback_token: str, django_capture_on_commit_callbacks: Any
) -> Callable[..., Any]:
    def post(
        kind: str, body: bytes | str, *, provider: str = "memory", token: str | None = callback_token
    ) -> Any:
        url = f"/api/v1/sms/callbacks/{provider}/{kind}/"
        if token is not None:
            url += f"?token={token}"
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(url, data=body, content_type="application/json")

    return post


@pytest.fixture
def client_as() -> Callable[[Any], Any]:
    """An APIClient acting as `user` without a token, so tests may travel in time."""
    from rest_framework.test import APIClient

    def make(user: Any) -> Any:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
