"""Error envelope, body limits, Idempotency-Key and cursor pagination, through HTTP."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from backend.audit.models import AuditRecord
from backend.conventions.models import IdempotencyRecord

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.conventions.urls")]


@pytest.fixture
def teacher(world):
    return world.teachers[0]


def notes() -> int:
    return AuditRecord.objects.filter(action="test.note").count()


def test_unauthenticated_gets_envelope_in_chinese(api):
    response = api.post("/api/v1/notes/", {"text": "x"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "not_authenticated", "message": "请先登录"}}


def test_malformed_json_is_400_and_writes_nothing(client_for, teacher):
    response = client_for(teacher).post("/api/v1/notes/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    assert notes() == 0


def test_validation_errors_carry_fields(client_for, teacher):
    response = client_for(teacher).post("/api/v1/notes/", {"text": "x" * 51}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["text"]
    assert notes() == 0


def test_body_over_one_megabyte_is_413(client_for, teacher):
    big = json.dumps({"text": "x" * (1024 * 1024 + 10)})
    response = client_for(teacher).post("/api/v1/notes/", big, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert notes() == 0


def test_idempotency_key_replays_first_result(client_for, teacher):
    client = client_for(teacher)
    first = client.post("/api/v1/notes/", {"text": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/v1/notes/", {"text": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    third = client.post("/api/v1/notes/", {"text": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    assert second.status_code == 200
    assert third.status_code == 200
    assert second.json() == first.json() == third.json()
    assert second["Idempotent-Replayed"] == "true"
    assert notes() == 1


def test_idempotency_key_with_other_body_is_409(client_for, teacher):
    client = client_for(teacher)
    client.post("/api/v1/notes/", {"text": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = client.post("/api/v1/notes/", {"text": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert notes() == 1


def test_keys_are_per_user(client_for, world):
    a = client_for(world.teachers[0]).post(
        "/api/v1/notes/", {"text": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    b = client_for(world.teachers[1]).post(
        "/api/v1/notes/", {"text": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert notes() == 2


def test_refused_create_leaves_no_key_behind(client_for, teacher):
    client = client_for(teacher)
    refused = client.post("/api/v1/notes/", {"text": "refuse"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert refused.status_code == 400
    assert IdempotencyRecord.objects.count() == 0
    ok = client.post("/api/v1/notes/", {"text": "fine"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert ok.status_code == 201
    assert notes() == 1


def test_oversized_key_is_rejected(client_for, teacher):
    response = client_for(teacher).post(
        "/api/v1/notes/", {"text": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 129
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert notes() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_create_one_object(client_for, world):
    """Three copies at once: one creates; the others replay its result or answer 409."""
    teacher = world.teachers[0]
    barrier = threading.Barrier(3)
    results: list[tuple[int, dict]] = []

    def post() -> None:
        try:
            client = client_for(teacher)
            barrier.wait()
            response = client.post(
                "/api/v1/notes/", {"text": "c"}, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert notes() == 1
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1
    assert all(status in (200, 201, 409) for status in statuses)
    created_id = next(body["id"] for status, body in results if status == 201)
    assert all(body["id"] == created_id for status, body in results if status == 200)


def test_cursor_pagination_shape_and_order(client_for, teacher):
    client = client_for(teacher)
    for i in range(25):
        client.post("/api/v1/notes/", {"text": str(i)}, format="json")
    page1 = client.get("/api/v1/notes/list/").json()
    assert set(page1) == {"results", "next"}
    assert len(page1["results"]) == 20
    ids = [row["id"] for row in page1["results"]]
    assert ids == sorted(ids, reverse=True)
    page2 = client.get(page1["next"]).json()
    assert len(page2["results"]) == 5
    assert page2["next"] is None
    assert not set(ids) & {row["id"] for row in page2["results"]}


def test_plain_dict_answers_carry_the_schools_offset_like_serializer_fields():
    from datetime import UTC, datetime

    from backend.conventions.rendering import LocalTimeJSONRenderer

    rendered = LocalTimeJSONRenderer().render({"at": datetime(2026, 11, 23, 14, 22, 10, 961009, tzinfo=UTC)})

    assert rendered == b'{"at":"2026-11-23T22:22:10.961009+08:00"}'
