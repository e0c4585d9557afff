"""publishing_deferred(): a fan-out written in several transactions publishes once,
after the block, only what committed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from backend.realtime import publishing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    calls: list[list[Any]] = []
    monkeypatch.setattr(publishing, "publish", lambda messages: calls.append(list(messages)))
    return calls


def _failing_chunk() -> None:
    with transaction.atomic():
        publishing.publish_on_commit([("user.2", {"type": "event"})])
        raise RuntimeError("chunk failed")


def _run_that_dies_after_one_chunk() -> None:
    with publishing.publishing_deferred():
        with transaction.atomic():
            publishing.publish_on_commit([("user.1", {"type": "event"})])
        raise RuntimeError("worker stopped")


def test_committed_chunks_are_published_once_when_the_block_ends(published: list[list[Any]]) -> None:
    with publishing.publishing_deferred():
        for chunk in range(3):
            with transaction.atomic():
                publishing.publish_on_commit([(f"user.{chunk}", {"type": "event"})])
        assert published == []  # nothing reached sockets between chunks

    assert published == [
        [("user.0", {"type": "event"}), ("user.1", {"type": "event"}), ("user.2", {"type": "event"})]
    ]


def test_a_chunk_that_rolls_back_publishes_nothing(published: list[list[Any]]) -> None:
    with publishing.publishing_deferred():
        with transaction.atomic():
            publishing.publish_on_commit([("user.1", {"type": "event"})])
        with pytest.raises(RuntimeError):
            _failing_chunk()

    assert published == [[("user.1", {"type": "event"})]]


def test_an_exception_still_publishes_what_committed(published: list[list[Any]]) -> None:
    with pytest.raises(RuntimeError):
        _run_that_dies_after_one_chunk()

    assert published == [[("user.1", {"type": "event"})]]


def test_inside_a_transaction_publishing_waits_for_that_commit_as_usual(published: list[list[Any]]) -> None:
    with transaction.atomic():
        with publishing.publishing_deferred():
            publishing.publish_on_commit([("user.1", {"type": "event"})])
        assert published == []

    assert published == [[("user.1", {"type": "event"})]]
