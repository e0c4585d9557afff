"""Concurrent submits on PostgreSQL: the same client_id twice at once makes one
submission; two different resubmissions at once make versions 2 and 3, never two 2s."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from backend.homework.models import Submission
from backend.homework.selectors import assignments_visible, viewer_get
from backend.homework.services import submission_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls: Any) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int, call: Any) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # reported to the test below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    return results


def submitter(user: Any, assignment_id: int, student: Any, *, client_id: str, text: str) -> Any:
    def call() -> Any:
        viewer = viewer_get(user=user)
        assignment = assignments_visible(viewer=viewer).get(pk=assignment_id)
        return submission_create(
            assignment=assignment,
            actor=user,
            viewer=viewer,
            student_id=student.pk,
            text=text,
            attachment_ids=[],
            client_id=client_id,
        )

    return call


def test_same_client_id_at_once_makes_one_submission(world: Any, assign: Any) -> None:
    hw = assign(world.teachers[0], [world.classes[0].pk])
    student = world.students[0][0]
    call = submitter(student, hw["id"], student, client_id="twice", text="同一份")
    first, second = run_together(call, call)
    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    assert first.submission.pk == second.submission.pk
    assert sorted([first.created, second.created]) == [False, True]
    assert Submission.objects.count() == 1


def test_parallel_resubmissions_get_distinct_versions(world: Any, assign: Any) -> None:
    hw = assign(world.teachers[0], [world.classes[0].pk], allow_resubmit=True)
    student, mother = world.students[0][0], world.guardians[0][0]
    submitter(student, hw["id"], student, client_id="v1", text="第一版")()
    results = run_together(
        submitter(student, hw["id"], student, client_id="v2", text="学生改的"),
        submitter(mother, hw["id"], student, client_id="m1", text="妈妈代交的"),
    )
    assert all(not isinstance(r, Exception) for r in results), results
    rows = list(Submission.objects.order_by("version").values_list("version", "is_current"))
    assert rows == [(1, False), (2, False), (3, True)]
