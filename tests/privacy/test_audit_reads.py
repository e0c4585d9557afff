"""Staff reading children's data leaves one audit record per actor × class × what × hour."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .conftest import NOW, audit_rows, checkin_post, submission_post

READ = "privacy.minor_data_read"


def test_teacher_reading_the_member_list_is_audited_once_per_hour(
    world: Any, as_user: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    teacher, school_class = world.teachers[0], world.classes[0]
    client = as_user(teacher)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(f"/api/v1/classes/{school_class.pk}/members/")
        client.get(f"/api/v1/classes/{school_class.pk}/members/")
    after_one = audit_rows(READ)
    clock.move_to(NOW + timedelta(hours=1, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"/api/v1/classes/{school_class.pk}/members/")

    assert first.status_code == 200
    assert len(after_one) == 1
    record = after_one[0]
    assert record.actor_id == teacher.pk
    assert record.detail["what"] == "class_members"
    assert record.detail["class_ids"] == [school_class.pk]
    assert sorted(record.detail["student_ids"]) == sorted(s.pk for s in world.students[0])
    assert record.detail["endpoint"] == f"/api/v1/classes/{school_class.pk}/members/"
    assert teacher.name not in record.actor_label
    assert len(audit_rows(READ)) == 2


def test_admin_reads_are_audited_per_actor(
    world: Any, as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url = f"/api/v1/classes/{world.classes[0].pk}/members/"
    with django_capture_on_commit_callbacks(execute=True):
        as_user(world.teachers[0]).get(url)
        as_user(world.school_admins[0]).get(url)

    assert [r.actor_id for r in audit_rows(READ)] == [world.teachers[0].pk, world.school_admins[0].pk]


def test_families_reading_are_not_audited(
    world: Any, as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(world.guardians[0][0]).get(f"/api/v1/classes/{world.classes[0].pk}/members/")
        as_user(world.students[0][0]).get(f"/api/v1/classes/{world.classes[0].pk}/members/")

    assert response.status_code == 200
    assert audit_rows(READ) == []


def test_foreign_class_is_404_and_not_audited(
    world: Any, as_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(world.teachers[0]).get(f"/api/v1/classes/{world.classes[2].pk}/members/")

    assert response.status_code == 404
    assert audit_rows(READ) == []


def test_teacher_reading_checkins_is_audited(
    world: Any, as_user: Any, campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    child = world.students[0][0]
    checkin_post(as_user(child), campaign, child)

    with django_capture_on_commit_callbacks(execute=True):
        as_user(world.teachers[0]).get(f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/")
        as_user(world.teachers[0]).get(f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/")
        as_user(world.guardians[0][0]).get(f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/")

    rows = audit_rows(READ)
    assert len(rows) == 1
    assert rows[0].detail["what"] == "checkins"
    assert rows[0].detail["student_ids"] == [child.pk]
    assert rows[0].detail["class_ids"] == [world.classes[0].pk]


def test_teacher_reading_homework_submissions_is_audited(
    world: Any, as_user: Any, assignment: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    child = world.students[0][0]
    submission_post(as_user(child), assignment, child)

    with django_capture_on_commit_callbacks(execute=True):
        as_user(world.teachers[0]).get(f"/api/v1/assignments/{assignment['id']}/submissions/")
        as_user(child).get(f"/api/v1/assignments/{assignment['id']}/submissions/")

    rows = audit_rows(READ)
    assert len(rows) == 1
    assert rows[0].actor_id == world.teachers[0].pk
    assert rows[0].detail["what"] == "homework_submissions"
    assert sorted(rows[0].detail["student_ids"]) == sorted(s.pk for s in world.students[0])


def test_member_list_query_count_is_unchanged_by_the_audit(
    world: Any, as_user: Any, django_assert_max_num_queries: Any
) -> None:
    client = as_user(world.teachers[0])
    url = f"/api/v1/classes/{world.classes[0].pk}/members/"
    client.get(url)  # warm-up: the audit insert waits for commit

    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
