"""Idempotency: the same Idempotency-Key on POST notices/ three times, in sequence and
concurrently (PostgreSQL, real transactions) → one notice, one receipt per family."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

NOTICE = {
    "title": "春游通知",
    "body": "本周五春游，请家长为孩子准备午餐和饮用水。",
    "audience": "guardians",
    "require_confirmation": True,
    "urgent": False,
}


def _counts(school_class: Any) -> tuple[int, int]:
    from backend.notices.models import Notice, NoticeReceipt

    notices = Notice.objects.filter(title=NOTICE["title"])
    return notices.count(), NoticeReceipt.objects.filter(notice__in=notices).count()


def test_the_same_key_three_times_creates_one_notice(world: Any, client_for: Callable[[Any], Any]) -> None:
    teacher = client_for(world.teachers[0])
    body = {**NOTICE, "class_ids": [world.classes[0].pk]}

    responses = [
        teacher.post("/api/v1/notices/", body, format="json", HTTP_IDEMPOTENCY_KEY="rel-key-1")
        for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [201, 200, 200]
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert responses[2]["Idempotent-Replayed"] == "true"
    assert _counts(world.classes[0]) == (1, len(world.guardians[0]))


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(
    world: Any, client_for: Callable[[Any], Any]
) -> None:
    teacher = client_for(world.teachers[0])
    first = teacher.post(
        "/api/v1/notices/",
        {**NOTICE, "class_ids": [world.classes[0].pk]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k2",
    )
    other = teacher.post(
        "/api/v1/notices/",
        {**NOTICE, "class_ids": [world.classes[1].pk]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k2",
    )

    assert first.status_code == 201
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert _counts(world.classes[0]) == (1, len(world.guardians[0]))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_concurrently_creates_one_notice(client_for: Callable[[Any], Any]) -> None:
    from django.db import connection

    from tests.conftest import build_world

    world = build_world()
    body = {**NOTICE, "class_ids": [world.classes[0].pk]}
    start = threading.Barrier(3)
    results: list[tuple[int, dict[str, Any]]] = []

    def post() -> None:
        try:
            client = client_for(world.teachers[0])
            start.wait()
            response = client.post(
                "/api/v1/notices/", body, format="json", HTTP_IDEMPOTENCY_KEY="rel-concurrent"
            )
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    statuses = sorted(status for status, _ in results)
    assert len(statuses) == 3, results
    assert statuses.count(201) == 1, results
    assert set(statuses) - {201} <= {200, 409}, results
    first_id = next(payload["id"] for status, payload in results if status == 201)
    assert all(payload["id"] == first_id for status, payload in results if status == 200)
    assert _counts(world.classes[0]) == (1, len(world.guardians[0]))
