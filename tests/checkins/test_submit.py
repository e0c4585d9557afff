"""Checking in through the API: who may, which days, what content, retries, and that a
refusal writes nothing and tells nobody."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from backend.checkins.models import Checkin
from backend.delivery.rules import SHANGHAI
from backend.realtime.models import UserEvent

from .conftest import MONDAY, body, checkin_url, events_of

pytestmark = pytest.mark.django_db


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert not Checkin.objects.exists()
    assert not UserEvent.objects.filter(type="checkin.created").exists()


def test_student_checks_in_for_themself(
    world: Any, as_user: Any, campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    student = world.students[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["student"] == {"id": student.pk, "name": student.name}
    assert data["submitted_by"] == {"id": student.pk, "display_name": student.name}
    assert data["date"] == "2026-03-02"
    assert data["is_makeup"] is False
    assert data["text"] == "读了《西游记》第三回"
    assert data["content_types"] == ["text"]
    assert (data["likes"], data["liked_by_me"], data["comments"], data["attachments"]) == (0, False, [], [])
    assert data["class_id"] == world.classes[0].pk
    # The class's teacher hears of it in the app.
    assert events_of(world.teachers[0], "checkin.created") == [
        {
            "checkin_id": data["id"],
            "campaign_id": campaign.pk,
            "campaign_title": "每日阅读",
            "class_id": world.classes[0].pk,
            "student": {"id": student.pk, "name": student.name},
            "date": "2026-03-02",
            "is_makeup": False,
            "submitted_by": {"id": student.pk, "display_name": student.name},
        }
    ]
    assert events_of(world.teachers[1], "checkin.created") == []


def test_guardian_checks_in_for_their_child(world: Any, as_user: Any, campaign: Any) -> None:
    child, guardian = world.students[0][1], world.guardians[0][1]
    response = as_user(guardian).post(checkin_url(campaign), body(student_id=child.pk), format="json")

    assert response.status_code == 201
    assert response.json()["student"]["id"] == child.pk
    assert response.json()["submitted_by"] == {"id": guardian.pk, "display_name": f"{child.name}妈妈"}
    row = Checkin.objects.get()
    assert (row.student_id, row.submitted_by_id) == (child.pk, guardian.pk)


@pytest.mark.parametrize(
    "who",
    ["other_family_guardian", "other_student", "teacher", "other_class_student", "other_school_admin"],
)
def test_checking_in_for_someone_else_is_404(world: Any, as_user: Any, campaign: Any, who: str) -> None:
    target = world.students[0][0]
    caller = {
        "other_family_guardian": world.guardians[0][2],
        "other_student": world.students[0][1],
        "teacher": world.teachers[0],
        "other_class_student": world.students[1][0],
        "other_school_admin": world.school_admins[1],
    }[who]
    if who == "other_class_student":
        target = caller  # a student of class 1 into class 0's campaign: campaign not theirs
    response = as_user(caller).post(checkin_url(campaign), body(student_id=target.pk), format="json")
    assert response.status_code == 404
    refused(response, 404, response.json()["error"]["code"])


def test_guardian_of_a_child_in_another_class_is_404(world: Any, as_user: Any, campaign: Any) -> None:
    guardian, child = world.guardians[1][0], world.students[1][0]
    response = as_user(guardian).post(checkin_url(campaign), body(student_id=child.pk), format="json")
    refused(response, 404, "not_found")  # the campaign is not one of the family's classes


def test_guardian_with_children_in_two_classes_is_still_refused_for_the_other(
    world: Any, as_user: Any, campaign: Any
) -> None:
    from backend.schools.services import guardianship_link

    guardian, other_child = world.guardians[0][0], world.students[1][0]
    guardianship_link(guardian=guardian, student=other_child, relation="父亲")
    response = as_user(guardian).post(checkin_url(campaign), body(student_id=other_child.pk), format="json")
    refused(response, 404, "student_not_found")


def test_second_checkin_on_the_same_day_is_refused(world: Any, as_user: Any, campaign: Any) -> None:
    student, guardian = world.students[0][0], world.guardians[0][0]
    first = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="a"), format="json"
    )
    second = as_user(guardian).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="b", text="另一份"), format="json"
    )
    again = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="c"), format="json"
    )

    assert first.status_code == 201
    assert (second.status_code, second.json()["error"]["code"]) == (409, "already_checked_in")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_checked_in")
    assert Checkin.objects.get().text == "读了《西游记》第三回"


def test_same_client_id_returns_the_first_result(
    world: Any, as_user: Any, campaign: Any, django_capture_on_commit_callbacks: Any
) -> None:
    student = world.students[0][0]
    client = as_user(student)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(checkin_url(campaign), body(student_id=student.pk, client_id="x1"), format="json")
        retry = client.post(checkin_url(campaign), body(student_id=student.pk, client_id="x1"), format="json")
        changed = client.post(
            checkin_url(campaign), body(student_id=student.pk, client_id="x1", text="改了"), format="json"
        )

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert (changed.status_code, changed.json()["error"]["code"]) == (409, "client_id_reused")
    assert Checkin.objects.count() == 1
    assert len(events_of(world.teachers[0], "checkin.created")) == 1


def test_a_retry_after_midnight_without_a_date_is_still_the_first(
    world: Any, as_user: Any, campaign: Any, clock: Any
) -> None:
    student = world.students[0][0]
    clock.move_to(datetime(2026, 3, 2, 23, 59, 59, tzinfo=SHANGHAI))
    first = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="late"), format="json"
    )
    clock.move_to(datetime(2026, 3, 3, 0, 0, 1, tzinfo=SHANGHAI))
    retry = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, client_id="late"), format="json"
    )
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["date"] == "2026-03-02"


def test_makeup_within_the_window(world: Any, as_user: Any, make_campaign: Any, clock: Any) -> None:
    campaign = make_campaign(makeup_days=2)
    student = world.students[0][0]
    clock.move_to(datetime(2026, 3, 4, 8, 0, tzinfo=SHANGHAI))  # Wednesday
    response = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, date="2026-03-02"), format="json"
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["date"], response.json()["is_makeup"]) == ("2026-03-02", True)
    today = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, date="2026-03-04"), format="json"
    )
    assert today.json()["is_makeup"] is False


@pytest.mark.parametrize(
    ("campaign_values", "day", "code"),
    [
        ({}, "2026-03-05", "date_in_future"),  # today is Wednesday 4 March
        ({}, "2026-03-01", "outside_campaign"),  # before the start
        ({"end_date": date(2026, 3, 3), "makeup_days": 7}, "2026-03-04", "outside_campaign"),  # after the end
        ({"weekdays": [1, 3, 5], "makeup_days": 7}, "2026-03-03", "not_a_campaign_day"),  # a Tuesday
        ({"makeup_days": 1}, "2026-03-02", "makeup_window_passed"),  # two days ago
        ({"makeup_days": 0}, "2026-03-03", "makeup_window_passed"),  # no make-ups at all
    ],
)
def test_refused_days(
    world: Any,
    as_user: Any,
    make_campaign: Any,
    clock: Any,
    campaign_values: dict[str, Any],
    day: str,
    code: str,
) -> None:
    campaign = make_campaign(**campaign_values)
    clock.move_to(datetime(2026, 3, 4, 12, 0, tzinfo=SHANGHAI))
    student = world.students[0][0]
    response = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, date=day), format="json"
    )
    refused(response, 400, code)
    assert response.json()["error"]["fields"]["date"]


def test_weekday_campaign_refuses_today_when_it_does_not_run(
    world: Any, as_user: Any, make_campaign: Any
) -> None:
    campaign = make_campaign(weekdays=[2, 4])  # today is a Monday
    student = world.students[0][0]
    response = as_user(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")
    refused(response, 400, "not_a_campaign_day")


def test_closed_campaign_refuses(world: Any, as_user: Any, campaign: Any) -> None:
    as_user(world.teachers[0]).post(f"/api/v1/checkin-campaigns/{campaign.pk}/close/")
    student = world.students[0][0]
    response = as_user(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")
    refused(response, 409, "campaign_closed")


def test_required_photo_and_voice(world: Any, as_user: Any, make_campaign: Any, upload: Any) -> None:
    campaign = make_campaign(content_types=["photo", "voice"])
    child, guardian = world.students[0][0], world.guardians[0][0]
    client = as_user(guardian)

    text_only = client.post(checkin_url(campaign), body(student_id=child.pk), format="json")
    refused(text_only, 400, "content_required")
    assert text_only.json()["error"]["fields"] == {"content_types": ["photo", "voice"]}

    photo = upload(guardian)
    photo_only = client.post(
        checkin_url(campaign),
        body(student_id=child.pk, attachment_ids=[photo.pk], client_id="p"),
        format="json",
    )
    refused(photo_only, 400, "content_required")
    assert photo_only.json()["error"]["message"] == "本活动的打卡需要包含：语音"

    voice = upload(guardian, "voice")
    ok = client.post(
        checkin_url(campaign),
        body(student_id=child.pk, attachment_ids=[photo.pk, voice.pk], client_id="pv", text=""),
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["content_types"] == ["photo", "voice"]
    attachments = ok.json()["attachments"]
    assert [a["id"] for a in attachments] == [photo.pk, voice.pk]
    assert [a["kind"] for a in attachments] == ["image", "voice"]
    assert all(a["url"] for a in attachments)


def test_attachments_of_someone_else_are_refused(
    world: Any, as_user: Any, campaign: Any, upload: Any
) -> None:
    student = world.students[0][0]
    foreign = upload(world.guardians[0][1])
    response = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, attachment_ids=[foreign.pk]), format="json"
    )
    refused(response, 400, "unknown_attachments")


def test_empty_checkin_is_refused_when_text_is_required(world: Any, as_user: Any, campaign: Any) -> None:
    student = world.students[0][0]
    response = as_user(student).post(
        checkin_url(campaign), body(student_id=student.pk, text="   "), format="json"
    )
    refused(response, 400, "content_required")


def test_a_tap_is_enough_when_nothing_is_required(world: Any, as_user: Any, make_campaign: Any) -> None:
    campaign = make_campaign(content_types=[])
    student = world.students[0][0]
    response = as_user(student).post(
        checkin_url(campaign), {"student_id": student.pk, "client_id": "tap"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["content_types"] == []


def test_bad_input_is_400(world: Any, as_user: Any, campaign: Any) -> None:
    student = world.students[0][0]
    client = as_user(student)
    for bad in (
        {"client_id": "x"},
        {"student_id": student.pk},
        {"student_id": student.pk, "client_id": "x", "date": "3月2日"},
        {"student_id": student.pk, "client_id": "x", "attachment_ids": list(range(1, 11))},
    ):
        response = client.post(checkin_url(campaign), bad, format="json")
        refused(response, 400, "invalid")


def test_campaign_before_its_start_refuses_today(world: Any, as_user: Any, make_campaign: Any) -> None:
    campaign = make_campaign(start_date=MONDAY + timedelta(days=7))
    student = world.students[0][0]
    response = as_user(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")
    refused(response, 400, "outside_campaign")


def test_with_a_real_access_token(world: Any, client_for: Any, campaign: Any, clock: Any) -> None:
    student = world.students[0][0]
    response = client_for(student).post(checkin_url(campaign), body(student_id=student.pk), format="json")
    assert response.status_code == 201
    anonymous = client_for(student)
    anonymous.credentials()
    assert anonymous.get(checkin_url(campaign)).status_code == 401
