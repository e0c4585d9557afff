"""The check-in POST is the evening rush's request (bench/ checkin_burst): what it reads
and writes is pinned here, and so is what a client sees when the short path is taken
(the answer of a new check-in is built from what submitting read, not re-read)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.checkins.models import Checkin
from backend.checkins.services import campaign_close

from .conftest import body, checkin_url, events_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def consents(world: Any, settings: Any) -> None:
    """Consent enforcement on (as in production), every student of class 0 consented."""
    from backend.privacy.policy import POLICY_VERSION
    from backend.privacy.services import consent_grant

    settings.PRIVACY_ENFORCE_CONSENT = True
    for student, guardian in zip(world.students[0], world.guardians[0], strict=True):
        consent_grant(guardian=guardian, student_id=student.pk, scope="basic", policy_version=POLICY_VERSION)


@pytest.mark.parametrize("who", ["student", "guardian"])
def test_a_new_checkin_is_one_read_with_the_consent_and_the_insert(
    world: Any, client_for: Any, campaign: Any, consents: None, clock: Any, who: str
) -> None:
    student = world.students[0][1]
    user = student if who == "student" else world.guardians[0][1]
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(checkin_url(campaign), body(student_id=student.pk), format="json")

    assert response.status_code == 201, response.json()
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # The token's user, everything about (campaign, student, caller, the student's
    # consent) in one read; the INSERT (in a savepoint only because the test runs in a
    # transaction).
    assert statements == ["SELECT", "SELECT", "SAVEPOINT", "INSERT", "RELEASE"], statements
    sql = [q["sql"] for q in queries.captured_queries]
    assert "accounts_user" in sql[0]
    assert "checkins_checkincampaign" in sql[1]
    assert "privacy_guardianconsent" in sql[1]
    assert Checkin.objects.get(pk=response.json()["id"]).submitted_by_id == user.pk


def test_the_answer_of_a_new_checkin_is_what_reading_it_shows(
    world: Any, as_user: Any, campaign: Any, clock: Any
) -> None:
    student, guardian = world.students[0][0], world.guardians[0][0]
    created = as_user(guardian).post(
        checkin_url(campaign), body(student_id=student.pk, text="  读了三页  "), format="json"
    )
    assert created.status_code == 201, created.json()
    shown = as_user(guardian).get(f"/api/v1/checkins/{created.json()['id']}/")
    assert shown.status_code == 200
    assert created.json() == shown.json()
    assert created.json()["student"] == {"id": student.pk, "name": student.name}
    assert created.json()["text"] == "读了三页"
    assert created.json()["submitted_by"]["id"] == guardian.pk
    assert created.json()["submitted_by"]["display_name"].startswith(student.name)


def test_a_retry_after_the_campaign_closed_still_returns_the_first(
    world: Any, as_user: Any, campaign: Any, clock: Any
) -> None:
    student = world.students[0][0]
    client = as_user(student)
    first = client.post(checkin_url(campaign), body(student_id=student.pk, client_id="r1"), format="json")
    from backend.checkins.selectors import campaign_access

    teacher = campaign.created_by
    campaign_close(actor=teacher, campaign=campaign, access=campaign_access(user=teacher, campaign=campaign))
    retry = client.post(checkin_url(campaign), body(student_id=student.pk, client_id="r1"), format="json")
    fresh = client.post(checkin_url(campaign), body(student_id=student.pk, client_id="r2"), format="json")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert (fresh.status_code, fresh.json()["error"]["code"]) == (409, "campaign_closed")
    assert Checkin.objects.count() == 1


@pytest.mark.parametrize(
    "payload",
    [{"text": "no student"}, {"student_id": "abc", "client_id": "x"}, {"student_id": 1}],
)
def test_an_unseen_campaign_is_404_before_bad_input_is_400(
    world: Any, as_user: Any, campaign: Any, payload: dict[str, Any]
) -> None:
    outsider = world.guardians[2][0]  # another school
    response = as_user(outsider).post(checkin_url(campaign), payload, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    # Someone who sees the campaign gets the 400.
    insider = world.students[0][0]
    response = as_user(insider).post(checkin_url(campaign), payload, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")


def test_outsiders_and_missing_campaigns_are_404_not_found(world: Any, as_user: Any, campaign: Any) -> None:
    outsider_student = world.students[2][0]
    response = as_user(outsider_student).post(
        checkin_url(campaign), body(student_id=outsider_student.pk), format="json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    student = world.students[0][0]
    for campaign_id in ("999999", "abc", str(2**70)):
        response = as_user(student).post(
            f"/api/v1/checkin-campaigns/{campaign_id}/checkins/", body(student_id=student.pk), format="json"
        )
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    # A classmate seeing the campaign, checking in for another child (or for an id no
    # row can have): 404 student_not_found.
    for student_id in (2**70, 2**63):
        response = as_user(world.guardians[0][1]).post(
            checkin_url(campaign), body(student_id=student_id), format="json"
        )
        assert (response.status_code, response.json()["error"]["code"]) == (404, "student_not_found")
    response = as_user(world.guardians[0][1]).post(
        checkin_url(campaign), body(student_id=student.pk), format="json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, "student_not_found")
    assert not Checkin.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_insert_commits_alone_and_the_teacher_hears(
    world: Any, as_user: Any, campaign: Any, clock: Any
) -> None:
    student = world.students[0][2]
    with CaptureQueriesContext(connection) as queries:
        response = as_user(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")
    assert response.status_code == 201, response.json()
    submit = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # One read and the INSERT, no BEGIN/COMMIT around it; then (eager Celery in tests)
    # the announcement's own transaction.
    assert submit[:2] == ["SELECT", "INSERT"], submit
    assert events_of(world.teachers[0], "checkin.created")[0]["checkin_id"] == response.json()["id"]
    # A second check-in the same day is refused and writes nothing.
    again = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="other"), format="json"
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_checked_in")
    assert Checkin.objects.filter(student=student).count() == 1
