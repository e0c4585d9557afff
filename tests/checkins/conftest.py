"""Fixtures for check-ins: a fixed clock (Monday 2 March 2026, 10:00 in Shanghai),
clients per person, campaigns, uploads and readers of what people were told."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from backend.delivery.rules import SHANGHAI

MONDAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
AMR = b"#!AMR\n" + b"\x00" * 60


@pytest.fixture
def clock() -> Iterator[Any]:
    """The frozen "now" of a test; move it with clock.move_to(datetime)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def as_user(clock: Any) -> Callable[[Any], APIClient]:
    """An API client acting as `user` (forced authentication: the clock may jump days,
    which would expire real 10-minute tokens; JWT itself is tested with client_for)."""

    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def make_campaign(world: Any, clock: Any) -> Callable[..., Any]:
    """A campaign by world.teachers[i] for their class (or `classes`), every day from
    Monday 2 March for four weeks, text required, one make-up day."""
    from backend.checkins.services import campaign_create

    def make(teacher_index: int = 0, **overrides: Any) -> Any:
        teacher = overrides.pop("teacher", world.teachers[teacher_index])
        classes = overrides.pop("classes", [world.classes[teacher_index]])
        values: dict[str, Any] = {
            "title": "每日阅读",
            "description": "每天读书二十分钟",
            "start_date": MONDAY,
            "end_date": date(2026, 3, 29),
            "content_types": ["text"],
            "makeup_days": 1,
            **overrides,
        }
        return campaign_create(teacher=teacher, class_ids=[c.pk for c in classes], **values)

    return make


@pytest.fixture
def campaign(make_campaign: Callable[..., Any]) -> Any:
    return make_campaign()


@pytest.fixture
def upload() -> Callable[..., Any]:
    """A file uploaded by `owner` through backend.files (an image unless kind="voice")."""
    from backend.files.services import file_upload

    def make(owner: Any, kind: str = "image") -> Any:
        if kind == "voice":
            blob = SimpleUploadedFile("voice.amr", AMR, content_type="audio/amr")
        else:
            blob = SimpleUploadedFile("photo.jpg", JPEG, content_type="image/jpeg")
        return file_upload(owner=owner, upload=blob)

    return make


def events_of(user: Any, event_type: str | None = None) -> list[dict[str, Any]]:
    """The realtime events recorded for `user` (data of each), oldest first."""
    from backend.realtime.models import UserEvent

    rows = UserEvent.objects.filter(user=user).order_by("seq")
    if event_type:
        rows = rows.filter(type=event_type)
    return [row.data for row in rows]


def checkin_url(campaign: Any) -> str:
    return f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/"


def body(**values: Any) -> dict[str, Any]:
    values.setdefault("text", "读了《西游记》第三回")
    values.setdefault("client_id", f"c-{values['student_id']}-{values.get('date', 'today')}")
    return values


@pytest.fixture(autouse=True)
def _clean_push_outbox() -> Iterator[None]:
    from backend.delivery.push import push_backend

    push_backend().clear()  # type: ignore[attr-defined]
    yield
    push_backend().clear()  # type: ignore[attr-defined]


def pushed() -> list[Any]:
    """Push messages sent (memory backend), as (token, title, body)."""
    from backend.delivery.push import push_backend

    return [(m.token, m.title, m.body) for m in push_backend().outbox]  # type: ignore[attr-defined]


def give_app(user: Any, token: str) -> None:
    """The person installed the app and signed in: push can reach them."""
    from django.utils import timezone

    from backend.accounts.services import device_register

    device_register(user=user, platform="android", token=token)
    type(user).objects.filter(pk=user.pk).update(first_app_login_at=timezone.now())
