"""Homework fixtures: an assignment payload, a way to assign and submit over the API,
uploads of each kind, and readers of the realtime event log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.delivery.rules import SHANGHAI

# A weekday morning: outside quiet hours, so pushes go at once.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
DUE = NOW + timedelta(days=1)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
AMR = b"#!AMR\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"\x00" * 64

UPLOADS = {
    "image": ("作业.png", PNG, "image/png"),
    "voice": ("朗读.amr", AMR, "audio/amr"),
    "video": ("实验.mp4", MP4, "video/mp4"),
    "file": ("报告.pdf", PDF, "application/pdf"),
}

_client_ids = count(1)


@pytest.fixture(autouse=True)
def _clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def _clean_push() -> Any:
    from backend.delivery.push import push_backend

    push_backend().clear()
    yield
    push_backend().clear()


def payload(class_ids: list[int], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "class_ids": class_ids,
        "subject": "语文",
        "title": "背诵《静夜思》",
        "instructions": "熟读并背诵全诗，录音提交。",
        "due_at": DUE.isoformat(),
        "submission_types": ["text", "photo", "voice"],
        "grading": "score",
        "max_score": 100,
        "allow_resubmit": False,
    }
    body.update(overrides)
    return body


@pytest.fixture
def assign(client_for: Callable[[Any], Any]) -> Callable[..., dict[str, Any]]:
    """Assign over the API as `teacher`; returns the created assignment's JSON."""

    def make(teacher: Any, class_ids: list[int], **overrides: Any) -> dict[str, Any]:
        response = client_for(teacher).post(
            "/api/v1/assignments/", payload(class_ids, **overrides), format="json"
        )
        assert response.status_code == 201, response.json()
        return dict(response.json())

    return make


@pytest.fixture
def submit(client_for: Callable[[Any], Any]) -> Callable[..., Any]:
    """POST assignments/{id}/submissions/ as `user` for `student`; returns the response."""

    def make(user: Any, assignment_id: int, student: Any, **body: Any) -> Any:
        data = {"student_id": student.pk, "text": "床前明月光", "client_id": f"c-{next(_client_ids)}", **body}
        return client_for(user).post(f"/api/v1/assignments/{assignment_id}/submissions/", data, format="json")

    return make


@pytest.fixture
def upload() -> Callable[[Any, str], int]:
    """Store a file of `kind` owned by `user`; returns its id."""
    from backend.files.services import file_upload

    def make(user: Any, kind: str) -> int:
        name, data, content_type = UPLOADS[kind]
        return int(
            file_upload(owner=user, upload=SimpleUploadedFile(name, data, content_type=content_type)).pk
        )

    return make


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


def ids(users: list[Any]) -> set[int]:
    return {u.pk for u in users}
