"""Privacy fixtures: a fixed clock (Monday 2 March 2026, 10:00 in Shanghai), clients,
a check-in campaign and a homework assignment for world.classes[0], and helpers that
give a child a check-in and a submission through the owning apps' APIs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from backend.delivery.rules import SHANGHAI
from backend.privacy.policy import POLICY_VERSION

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
_ids = count(1)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def as_user(clock: Any) -> Callable[[Any], APIClient]:
    """A client acting as `user` (forced authentication: the clock may move hours)."""

    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _enforcement_off(settings: Any) -> None:
    """Off unless a test asks for `enforce`, whatever the settings module says."""
    settings.PRIVACY_ENFORCE_CONSENT = False


@pytest.fixture
def enforce(settings: Any, _enforcement_off: None) -> None:
    settings.PRIVACY_ENFORCE_CONSENT = True


@pytest.fixture
def campaign(world: Any, clock: Any) -> Any:
    from backend.checkins.services import campaign_create

    return campaign_create(
        teacher=world.teachers[0],
        class_ids=[world.classes[0].pk],
        title="每日阅读",
        description="每天读书二十分钟",
        start_date=NOW.date(),
        end_date=(NOW + timedelta(days=27)).date(),
        content_types=["text"],
        makeup_days=1,
    )


@pytest.fixture
def assignment(world: Any, as_user: Callable[[Any], APIClient]) -> dict[str, Any]:
    response = as_user(world.teachers[0]).post(
        "/api/v1/assignments/",
        {
            "class_ids": [world.classes[0].pk],
            "subject": "语文",
            "title": "背诵《静夜思》",
            "due_at": (NOW + timedelta(days=1)).isoformat(),
            "submission_types": ["text", "photo"],
            "grading": "score",
            "max_score": 100,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return dict(response.json())


def checkin_post(client: APIClient, campaign: Any, student: Any, **extra: Any) -> Any:
    body = {"student_id": student.pk, "text": "读了《西游记》", "client_id": f"c-{next(_ids)}", **extra}
    return client.post(f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/", body, format="json")


def submission_post(client: APIClient, assignment: dict[str, Any], student: Any, **extra: Any) -> Any:
    body = {"student_id": student.pk, "text": "床前明月光", "client_id": f"s-{next(_ids)}", **extra}
    return client.post(f"/api/v1/assignments/{assignment['id']}/submissions/", body, format="json")


def consent(client: APIClient, student: Any) -> Any:
    return client.post(
        "/api/v1/privacy/consents/",
        {"student_id": student.pk, "scope": "basic", "policy_version": POLICY_VERSION},
        format="json",
    )


def audit_rows(action: str) -> list[Any]:
    from backend.audit.models import AuditRecord

    return list(AuditRecord.objects.filter(action=action).order_by("id"))
