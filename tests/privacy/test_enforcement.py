"""A student's check-ins and homework are processed only after a guardian consented;
withdrawal stops new processing and hides the child from class-wide views."""

from __future__ import annotations

from typing import Any

from backend.checkins.models import Checkin
from backend.homework.models import Submission

from .conftest import checkin_post, consent, submission_post


def test_checkin_without_consent_is_refused_and_nothing_is_written(
    world: Any, as_user: Any, campaign: Any, enforce: None
) -> None:
    response = checkin_post(as_user(world.guardians[0][0]), campaign, world.students[0][0])

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "guardian_consent_required"
    assert not Checkin.objects.exists()


def test_checkin_after_consent_then_refused_after_withdrawal(
    world: Any, as_user: Any, campaign: Any, enforce: None
) -> None:
    guardian, child = world.guardians[0][0], world.students[0][0]
    client = as_user(guardian)
    granted = consent(client, child).json()

    accepted = checkin_post(client, campaign, child)
    client.post(f"/api/v1/privacy/consents/{granted['id']}/withdraw/")
    by_student = checkin_post(as_user(child), campaign, child, date="2026-03-01")

    assert accepted.status_code == 201
    assert by_student.status_code == 403
    assert by_student.json()["error"]["code"] == "guardian_consent_required"
    assert Checkin.objects.filter(student=child).count() == 1


def test_homework_without_consent_is_refused(
    world: Any, as_user: Any, assignment: dict[str, Any], enforce: None
) -> None:
    guardian, child = world.guardians[0][0], world.students[0][0]

    refused = submission_post(as_user(child), assignment, child)
    consent(as_user(guardian), child)
    accepted = submission_post(as_user(child), assignment, child)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "guardian_consent_required"
    assert accepted.status_code == 201
    assert Submission.objects.filter(student=child).count() == 1


def test_with_enforcement_off_no_consent_is_needed(
    world: Any, as_user: Any, campaign: Any, settings: Any
) -> None:
    settings.PRIVACY_ENFORCE_CONSENT = False

    response = checkin_post(as_user(world.guardians[0][0]), campaign, world.students[0][0])

    assert response.status_code == 201


def test_withdrawn_child_leaves_the_class_wide_view(
    world: Any, as_user: Any, campaign: Any, enforce: None
) -> None:
    school = world.schools[0]
    school.allow_class_visibility = True
    school.save(update_fields=["allow_class_visibility"])
    kept, gone = world.students[0][0], world.students[0][1]
    consent(as_user(world.guardians[0][0]), kept)
    withdrawing = consent(as_user(world.guardians[0][1]), gone).json()
    checkin_post(as_user(kept), campaign, kept)
    checkin_post(as_user(gone), campaign, gone)
    as_user(world.guardians[0][1]).post(f"/api/v1/privacy/consents/{withdrawing['id']}/withdraw/")

    classmate_view = as_user(world.guardians[0][2]).get(
        f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/?scope=class"
    )
    teacher_view = as_user(world.teachers[0]).get(f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/")

    assert classmate_view.status_code == 200
    assert len(classmate_view.json()["results"]) == 1
    # The class teacher still sees the work that was handed in (not a class-wide display).
    assert {row["student"]["id"] for row in teacher_view.json()["results"]} == {kept.pk, gone.pk}
