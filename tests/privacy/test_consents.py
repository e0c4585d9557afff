from __future__ import annotations

from typing import Any

from backend.privacy.models import GuardianConsent
from backend.privacy.policy import POLICY_VERSION
from backend.privacy.selectors import consent_granted_student_ids

from .conftest import audit_rows, consent


def test_policy_is_served_with_its_version(world: Any, as_user: Any) -> None:
    response = as_user(world.guardians[0][0]).get("/api/v1/privacy/policy/")

    assert response.status_code == 200
    assert response.json()["version"] == POLICY_VERSION
    assert "个人信息保护法" in response.json()["summary"]


def test_guardian_grants_consent_once_and_sees_it(world: Any, as_user: Any) -> None:
    guardian, child = world.guardians[0][0], world.students[0][0]
    client = as_user(guardian)

    first = consent(client, child)
    again = consent(client, child)

    assert first.status_code == 201
    assert first.json()["student_id"] == child.pk
    assert first.json()["active"] is True
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    listed = client.get("/api/v1/privacy/consents/").json()
    assert [c["id"] for c in listed] == [first.json()["id"]]
    record = audit_rows("privacy.consent_granted")
    assert len(record) == 1
    assert record[0].detail["student_id"] == child.pk
    assert guardian.name not in record[0].actor_label


def test_consent_for_someone_elses_child_is_404_and_writes_nothing(world: Any, as_user: Any) -> None:
    response = consent(as_user(world.guardians[0][0]), world.students[0][1])

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "student_not_found"
    assert not GuardianConsent.objects.exists()


def test_teacher_cannot_consent_for_a_pupil(world: Any, as_user: Any) -> None:
    response = consent(as_user(world.teachers[0]), world.students[0][0])

    assert response.status_code == 404
    assert not GuardianConsent.objects.exists()


def test_outdated_policy_version_is_refused(world: Any, as_user: Any) -> None:
    response = as_user(world.guardians[0][0]).post(
        "/api/v1/privacy/consents/",
        {"student_id": world.students[0][0].pk, "scope": "basic", "policy_version": "2020-01-01"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "policy_version_outdated"
    assert not GuardianConsent.objects.exists()


def test_unknown_scope_is_refused(world: Any, as_user: Any) -> None:
    response = as_user(world.guardians[0][0]).post(
        "/api/v1/privacy/consents/",
        {"student_id": world.students[0][0].pk, "scope": "marketing", "policy_version": POLICY_VERSION},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_scope"


def test_withdraw_then_grant_again(world: Any, as_user: Any) -> None:
    guardian, child = world.guardians[0][0], world.students[0][0]
    client = as_user(guardian)
    granted = consent(client, child).json()

    withdrawn = client.post(f"/api/v1/privacy/consents/{granted['id']}/withdraw/")
    twice = client.post(f"/api/v1/privacy/consents/{granted['id']}/withdraw/")
    regranted = consent(client, child)

    assert withdrawn.status_code == 200
    assert withdrawn.json()["active"] is False
    assert withdrawn.json()["withdrawn_at"]
    assert twice.status_code == 200
    assert regranted.status_code == 201
    assert regranted.json()["id"] != granted["id"]
    assert len(audit_rows("privacy.consent_withdrawn")) == 1
    assert consent_granted_student_ids(student_ids=[child.pk]) == {child.pk}


def test_withdrawing_a_foreign_or_unknown_consent_is_404(world: Any, as_user: Any) -> None:
    granted = consent(as_user(world.guardians[0][0]), world.students[0][0]).json()
    other = as_user(world.guardians[0][1])

    foreign = other.post(f"/api/v1/privacy/consents/{granted['id']}/withdraw/")
    garbage = other.post("/api/v1/privacy/consents/abc/withdraw/")

    assert foreign.status_code == 404
    assert garbage.status_code == 404
    assert GuardianConsent.objects.get(pk=granted["id"]).withdrawn_at is None


def test_granted_ids_selector_is_one_query(world: Any, as_user: Any, django_assert_num_queries: Any) -> None:
    first, second = world.students[0][0], world.students[0][1]
    consent(as_user(world.guardians[0][0]), first)
    withdrawn = consent(as_user(world.guardians[0][1]), second).json()
    as_user(world.guardians[0][1]).post(f"/api/v1/privacy/consents/{withdrawn['id']}/withdraw/")

    with django_assert_num_queries(1):
        granted = consent_granted_student_ids(student_ids=[first.pk, second.pk, world.students[1][0].pk])

    assert granted == {first.pk}


def test_demo_consents_cover_every_student_once(world: Any) -> None:
    from backend.privacy.services import privacy_demo_consents

    created = privacy_demo_consents()
    again = privacy_demo_consents()

    every = [s.pk for cls in world.students for s in cls]
    assert created == len(every)
    assert again == 0
    assert consent_granted_student_ids(student_ids=every) == set(every)
