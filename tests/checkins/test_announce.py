"""Telling teachers about check-ins in batches (bench/ checkin_burst): the class's
check-ins not yet announced go out in one task and one transaction, each exactly once;
a lost task is recovered by the sweeper; the consent check rides on the one read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.checkins import tasks
from backend.checkins.models import Checkin
from backend.checkins.tasks import (
    checkins_announce,
    checkins_announce_class_task,
    checkins_announce_overdue,
)
from backend.delivery.models import Delivery
from backend.realtime.models import UserEvent

from .conftest import NOW, body, checkin_url, events_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def enforce(settings: Any) -> None:
    settings.PRIVACY_ENFORCE_CONSENT = True


def consent_for(student: Any, guardian: Any) -> None:
    from backend.privacy.policy import POLICY_VERSION
    from backend.privacy.services import consent_grant

    consent_grant(guardian=guardian, student_id=student.pk, scope="basic", policy_version=POLICY_VERSION)


def submit_unannounced(as_user: Any, campaign: Any, students: list[Any], capture: Any) -> list[int]:
    """Check-ins whose announcement task never ran (lost with Redis, or not run yet)."""
    ids = []
    with capture(execute=False):
        for student in students:
            response = as_user(student).post(
                checkin_url(campaign), body(student_id=student.pk), format="json"
            )
            assert response.status_code == 201, response.json()
            ids.append(response.json()["id"])
    return ids


# --- Consent, read along with the rest ----------------------------------------------------


def test_a_checkin_with_consent_reads_once_and_inserts(
    world: Any, as_user: Any, campaign: Any, enforce: None
) -> None:
    student = world.students[0][0]
    consent_for(student, world.guardians[0][0])
    with CaptureQueriesContext(connection) as queries:
        response = as_user(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")

    assert response.status_code == 201, response.json()
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # One read (campaign, class, guardianship, replay and consent), the INSERT in the
    # test transaction's savepoint.
    assert statements == ["SELECT", "SAVEPOINT", "INSERT", "RELEASE"], statements
    assert "privacy_guardianconsent" in queries.captured_queries[0]["sql"]


@pytest.mark.parametrize("who", ["student", "guardian"])
def test_without_consent_the_refusal_is_unchanged_and_nothing_is_written(
    world: Any, as_user: Any, campaign: Any, enforce: None, django_capture_on_commit_callbacks: Any, who: str
) -> None:
    student = world.students[0][0]
    user = student if who == "student" else world.guardians[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(user).post(checkin_url(campaign), body(student_id=student.pk), format="json")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "guardian_consent_required"
    assert error["message"] == "需要监护人先在家长端同意《儿童个人信息保护规则》，才能提交该学生的打卡和作业"
    assert not Checkin.objects.exists()
    assert events_of(world.teachers[0], "checkin.created") == []


def test_consent_is_refused_before_a_replay_and_before_student_not_found(
    world: Any, as_user: Any, campaign: Any, settings: Any
) -> None:
    student, guardian = world.students[0][0], world.guardians[0][0]
    first = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="r"), format="json"
    )
    assert first.status_code == 201
    settings.PRIVACY_ENFORCE_CONSENT = True

    retry = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="r"), format="json"
    )
    # A classmate's guardian for a child not theirs: the consent refusal comes first, as before.
    other = as_user(world.guardians[0][1]).post(
        checkin_url(campaign), body(student_id=student.pk), format="json"
    )

    assert (retry.status_code, retry.json()["error"]["code"]) == (403, "guardian_consent_required")
    assert (other.status_code, other.json()["error"]["code"]) == (403, "guardian_consent_required")
    consent_for(student, guardian)
    again = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="r"), format="json"
    )
    assert (again.status_code, again.json()) == (200, first.json())
    assert Checkin.objects.count() == 1


def test_a_withdrawn_consent_refuses_the_next_checkin(
    world: Any, as_user: Any, campaign: Any, enforce: None
) -> None:
    from backend.privacy.models import GuardianConsent

    student = world.students[0][0]
    consent_for(student, world.guardians[0][0])
    GuardianConsent.objects.filter(student=student).update(withdrawn_at=NOW)

    response = as_user(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (403, "guardian_consent_required")
    assert not Checkin.objects.exists()


# --- Batches --------------------------------------------------------------------------


def test_a_burst_in_one_class_queues_one_task_that_announces_each_checkin_once(
    world: Any,
    as_user: Any,
    campaign: Any,
    make_campaign: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(checkins_announce_class_task, "delay", lambda class_id: queued.append(class_id))
    students = world.students[0][:3]
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            as_user(s).post(checkin_url(campaign), body(student_id=s.pk), format="json") for s in students
        ]
    assert [r.status_code for r in responses] == [201, 201, 201]
    # Three commits, one task queued: the later two ride on the first's.
    assert queued == [world.classes[0].pk]
    assert events_of(world.teachers[0], "checkin.created") == []

    with django_capture_on_commit_callbacks(execute=True):
        announced = tasks.checkins_announce_class_task.run(world.classes[0].pk)

    assert announced == 3
    seen = events_of(world.teachers[0], "checkin.created")
    assert [e["checkin_id"] for e in seen] == [r.json()["id"] for r in responses]
    assert seen[1] == {
        "checkin_id": responses[1].json()["id"],
        "campaign_id": campaign.pk,
        "campaign_title": "每日阅读",
        "class_id": world.classes[0].pk,
        "student": {"id": students[1].pk, "name": students[1].name},
        "date": "2026-03-02",
        "is_makeup": False,
        "submitted_by": {"id": students[1].pk, "display_name": students[1].name},
    }
    assert not Checkin.objects.filter(announced_at__isnull=True).exists()
    # The task cleared its mark before reading: the next check-in queues a new one.
    with django_capture_on_commit_callbacks(execute=True):
        late = as_user(students[0]).post(
            checkin_url(make_campaign()), body(student_id=students[0].pk), format="json"
        )
    assert late.status_code == 201
    assert queued == [world.classes[0].pk, world.classes[0].pk]


def test_running_a_batch_again_sends_nothing_twice(
    world: Any, as_user: Any, campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ids = submit_unannounced(as_user, campaign, world.students[0][:2], django_capture_on_commit_callbacks)
    class_id = world.classes[0].pk
    with django_capture_on_commit_callbacks(execute=True):
        assert checkins_announce_class_task.delay(class_id).get() == 2
        assert checkins_announce_class_task.delay(class_id).get() == 0
        # The per-check-in task queued before batches existed: nothing new either.
        assert checkins_announce.delay(ids[0]).get() == 0
    deliveries = Delivery.objects.filter(dispatch__source_type="checkin").count()
    # Even with the row's mark lost (a crash between two systems, a restore): notify()
    # is idempotent per check-in, so the teacher is not told twice.
    Checkin.objects.filter(pk__in=ids).update(announced_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert checkins_announce_class_task.delay(class_id).get() == 2

    assert [e["checkin_id"] for e in events_of(world.teachers[0], "checkin.created")] == ids
    assert Delivery.objects.filter(dispatch__source_type="checkin").count() == deliveries == 2
    assert events_of(world.teachers[1], "checkin.created") == []


def test_a_batch_announces_only_its_class(
    world: Any, as_user: Any, make_campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = make_campaign(0)
    second = make_campaign(1)
    submit_unannounced(as_user, first, world.students[0][:2], django_capture_on_commit_callbacks)
    submit_unannounced(as_user, second, world.students[1][:1], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert checkins_announce_class_task.delay(world.classes[0].pk).get() == 2

    assert len(events_of(world.teachers[0], "checkin.created")) == 2
    assert events_of(world.teachers[1], "checkin.created") == []
    assert Checkin.objects.filter(announced_at__isnull=True).get().student_id == world.students[1][0].pk


def test_batches_are_bounded_and_all_are_announced(
    world: Any,
    as_user: Any,
    campaign: Any,
    make_campaign: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    from backend.checkins import notifications

    monkeypatch.setattr(notifications, "ANNOUNCE_BATCH", 2)
    students = world.students[0]
    ids = submit_unannounced(as_user, campaign, students, django_capture_on_commit_callbacks)
    ids += submit_unannounced(as_user, make_campaign(), students, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        # Three full batches, then one that finds nothing.
        assert checkins_announce_class_task.delay(world.classes[0].pk).get() == 6

    assert [e["checkin_id"] for e in events_of(world.teachers[0], "checkin.created")] == ids


def test_a_batch_costs_constant_queries_plus_notify_per_checkin(
    world: Any, as_user: Any, campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    def announce(students: list[Any]) -> list[str]:
        submit_unannounced(as_user, campaign, students, django_capture_on_commit_callbacks)
        with (
            django_capture_on_commit_callbacks(execute=True),
            CaptureQueriesContext(connection) as queries,
        ):
            checkins_announce_class_task.delay(world.classes[0].pk)
        return [q["sql"] for q in queries.captured_queries]

    one, two = announce(world.students[0][:1]), announce(world.students[0][1:3])

    # The batch's own statements, whatever its size: the claim (FOR UPDATE SKIP LOCKED
    # on PostgreSQL), the teachers, the mark; in a savepoint of the test's transaction.
    def own(sql: list[str]) -> list[str]:
        return [q.split()[0] for q in sql if "checkins_checkin" in q or "schools_classmembership" in q]

    assert own(one) == own(two) == ["SELECT", "SELECT", "UPDATE"]
    assert (one[0].split()[0], one[-1].split()[0]) == ("SAVEPOINT", "RELEASE")
    # Per check-in, only notify()'s own statements (delivery's business), never more than
    # the 7 (6 on PostgreSQL) it took when this was written; the task per check-in it
    # replaced spent 4 more on each.
    per_checkin = len(two) - len(one)
    assert len(one) == 5 + per_checkin
    assert per_checkin <= (6 if connection.vendor == "postgresql" else 7)
    assert len(events_of(world.teachers[0], "checkin.created")) == 3


# --- The sweeper ----------------------------------------------------------------------


def test_the_sweeper_runs_every_minute(settings: Any) -> None:
    every = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert every[checkins_announce_overdue.name] == 60.0


def test_a_lost_announcement_is_recovered_by_the_sweeper(
    world: Any, as_user: Any, campaign: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The task (or Redis with it) was lost: the row says "not yet announced".
    ids = submit_unannounced(as_user, campaign, world.students[0][:2], django_capture_on_commit_callbacks)
    assert not UserEvent.objects.filter(type="checkin.created").exists()

    with django_capture_on_commit_callbacks(execute=True):
        checkins_announce_overdue.delay().get()
    # Too young: left to its queued batch.
    assert events_of(world.teachers[0], "checkin.created") == []

    clock.move_to(NOW + timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        checkins_announce_overdue.delay().get()
        checkins_announce_overdue.delay().get()

    assert [e["checkin_id"] for e in events_of(world.teachers[0], "checkin.created")] == ids
    assert not Checkin.objects.filter(announced_at__isnull=True).exists()


def test_a_check_in_that_is_gone_is_not_announced(
    world: Any, as_user: Any, campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    [checkin_id] = submit_unannounced(
        as_user, campaign, world.students[0][:1], django_capture_on_commit_callbacks
    )
    Checkin.objects.filter(pk=checkin_id).delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert checkins_announce.delay(checkin_id).get() == 0
        assert checkins_announce_class_task.delay(world.classes[0].pk).get() == 0
    assert events_of(world.teachers[0], "checkin.created") == []


def test_with_the_broker_down_the_checkin_is_made_and_the_sweeper_announces_it(
    world: Any,
    as_user: Any,
    campaign: Any,
    clock: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    attempts: list[int] = []

    def broker_down(class_id: int) -> None:
        attempts.append(class_id)
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(checkins_announce_class_task, "delay", broker_down)
    students = world.students[0][:2]
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            as_user(s).post(checkin_url(campaign), body(student_id=s.pk), format="json") for s in students
        ]

    assert [r.status_code for r in responses] == [201, 201]
    # A failed attempt leaves no mark behind: the next check-in tried again.
    assert attempts == [world.classes[0].pk, world.classes[0].pk]
    assert events_of(world.teachers[0], "checkin.created") == []
    monkeypatch.undo()
    clock.move_to(NOW + timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        checkins_announce_overdue.delay().get()
    assert [e["checkin_id"] for e in events_of(world.teachers[0], "checkin.created")] == [
        r.json()["id"] for r in responses
    ]
