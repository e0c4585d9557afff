"""publishing_in_background(): a fan-out written in several transactions hands each
committed chunk to a background publisher and ends once all of it is out."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import transaction

from backend.realtime import publishing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[Any], str]]:
    calls: list[tuple[list[Any], str]] = []
    monkeypatch.setattr(
        publishing,
        "publish",
        lambda messages: calls.append((list(messages), threading.current_thread().name)),
    )
    return calls


def _failing_chunk() -> None:
    with transaction.atomic():
        publishing.publish_on_commit([("user.2", {"type": "event"})])
        raise RuntimeError("chunk failed")


def _run_that_dies_after_one_chunk() -> None:
    with publishing.publishing_in_background():
        with transaction.atomic():
            publishing.publish_on_commit([("user.1", {"type": "event"})])
        raise RuntimeError("worker stopped")


def _groups(calls: list[tuple[list[Any], str]]) -> list[str]:
    return [group for messages, _ in calls for group, _ in messages]


def test_committed_chunks_go_out_in_order_on_another_thread_before_the_block_ends(
    published: list[tuple[list[Any], str]],
) -> None:
    with publishing.publishing_in_background():
        for chunk in range(3):
            with transaction.atomic():
                publishing.publish_on_commit([(f"user.{chunk}", {"type": "event"})])

    assert _groups(published) == ["user.0", "user.1", "user.2"]
    assert {thread for _, thread in published} == {"realtime-publisher"}


def test_a_chunk_that_rolls_back_publishes_nothing(published: list[tuple[list[Any], str]]) -> None:
    with publishing.publishing_in_background():
        with transaction.atomic():
            publishing.publish_on_commit([("user.1", {"type": "event"})])
        with pytest.raises(RuntimeError):
            _failing_chunk()

    assert _groups(published) == ["user.1"]


def test_an_exception_still_publishes_what_committed(published: list[tuple[list[Any], str]]) -> None:
    with pytest.raises(RuntimeError):
        _run_that_dies_after_one_chunk()

    assert _groups(published) == ["user.1"]


def test_inside_a_transaction_publishing_waits_for_that_commit_as_usual(
    published: list[tuple[list[Any], str]],
) -> None:
    with transaction.atomic():
        with publishing.publishing_in_background():
            publishing.publish_on_commit([("user.1", {"type": "event"})])
        assert published == []

    assert _groups(published) == ["user.1"]
    assert published[0][1] == threading.current_thread().name
