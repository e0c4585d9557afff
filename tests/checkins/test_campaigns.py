"""Campaigns through the API: create, refuse bad input without writing, list, read,
edit, close."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from backend.audit.models import AuditRecord
from backend.checkins.models import CheckinAlias, CheckinCampaign

pytestmark = pytest.mark.django_db

URL = "/api/v1/checkin-campaigns/"


def payload(world: Any, **values: Any) -> dict[str, Any]:
    return {
        "class_ids": [world.classes[0].pk],
        "title": "每日阅读",
        "description": "每天读书二十分钟",
        "start_date": "2026-03-02",
        "end_date": "2026-03-29",
        "content_types": ["text", "photo"],
        "makeup_days": 2,
        **values,
    }


def test_teacher_creates_a_campaign_with_defaults(world: Any, as_user: Any) -> None:
    response = as_user(world.teachers[0]).post(URL, payload(world, remind_at="19:30"), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["title"] == "每日阅读"
    assert data["class_ids"] == [world.classes[0].pk]
    assert data["classes"] == [{"id": world.classes[0].pk, "name": "三年级(1)班"}]
    assert data["weekdays"] == [1, 2, 3, 4, 5, 6, 7]
    assert data["content_types"] == ["text", "photo"]
    assert data["makeup_days"] == 2
    assert data["remind_at"] == "19:30:00"
    assert data["status"] == "open"
    assert data["today"] == "2026-03-02"
    assert data["is_campaign_day"] is True
    assert data["can_manage"] is True
    assert data["class_visibility"] is False
    assert data["created_by"] == {"id": world.teachers[0].pk, "display_name": world.teachers[0].name}
    campaign = CheckinCampaign.objects.get(pk=data["id"])
    # Every student of the class has a pseudonym, numbered 1..n in some order.
    assert sorted(CheckinAlias.objects.filter(campaign=campaign).values_list("number", flat=True)) == [
        1,
        2,
        3,
    ]
    assert AuditRecord.objects.filter(action="checkins.campaign_create", object_id=str(campaign.pk)).exists()


def test_teacher_of_two_classes_covers_both(world: Any, as_user: Any) -> None:
    from backend.schools.services import membership_set

    membership_set(school_class=world.classes[1], user=world.teachers[0], role="teacher")
    ids = [world.classes[0].pk, world.classes[1].pk]
    response = as_user(world.teachers[0]).post(
        URL, payload(world, class_ids=ids, weekdays=[5, 1, 1]), format="json"
    )

    assert response.status_code == 201
    assert response.json()["class_ids"] == ids
    assert response.json()["weekdays"] == [1, 5]


@pytest.mark.parametrize(
    ("values", "status", "code"),
    [
        ({"end_date": "2026-03-01"}, 400, "end_before_start"),
        ({"weekdays": [0, 1]}, 400, "invalid_weekdays"),
        ({"weekdays": [8]}, 400, "invalid_weekdays"),
        ({"weekdays": []}, 400, "invalid_weekdays"),
        ({"content_types": ["smell"]}, 400, "invalid_content_types"),
        ({"makeup_days": 8}, 400, "invalid_makeup_days"),
        ({"makeup_days": -1}, 400, "invalid_makeup_days"),
        ({"start_date": "2026-03-01"}, 400, "start_date_in_past"),
        ({"end_date": "2027-03-29"}, 400, "campaign_too_long"),
        # 3–4 March 2026 are a Tuesday and a Wednesday: no Sunday in between.
        ({"start_date": "2026-03-03", "end_date": "2026-03-04", "weekdays": [7]}, 400, "no_campaign_days"),
        ({"title": "   "}, 400, "title_required"),
        ({"class_ids": []}, 400, "class_ids_required"),
        ({"title": "长" * 51}, 400, "invalid"),
        ({"remind_at": "25:00"}, 400, "invalid"),
    ],
)
def test_bad_campaigns_are_refused_and_nothing_is_written(
    world: Any, as_user: Any, values: dict[str, Any], status: int, code: str
) -> None:
    response = as_user(world.teachers[0]).post(URL, payload(world, **values), format="json")

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert not CheckinCampaign.objects.exists()
    assert not CheckinAlias.objects.exists()


@pytest.mark.parametrize("foreign", ["other_class", "other_school"])
def test_campaign_on_a_class_the_teacher_does_not_teach_is_unknown_ids(
    world: Any, as_user: Any, foreign: str
) -> None:
    other = world.classes[1] if foreign == "other_class" else world.classes[2]
    response = as_user(world.teachers[0]).post(
        URL, payload(world, class_ids=[world.classes[0].pk, other.pk]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_ids"
    assert response.json()["error"]["fields"] == {"class_ids": [f"无效的编号：{other.pk}"]}
    assert not CheckinCampaign.objects.exists()


def test_guardians_students_and_admins_cannot_create(world: Any, as_user: Any) -> None:
    for user in (world.guardians[0][0], world.students[0][0], world.school_admins[0]):
        response = as_user(user).post(URL, payload(world), format="json")
        assert response.json()["error"]["code"] == "unknown_ids"
    assert not CheckinCampaign.objects.exists()


def test_classes_of_two_schools_are_refused(world: Any, as_user: Any) -> None:
    from backend.schools.services import membership_set

    membership_set(school_class=world.classes[2], user=world.teachers[0], role="teacher")
    response = as_user(world.teachers[0]).post(
        URL, payload(world, class_ids=[world.classes[0].pk, world.classes[2].pk]), format="json"
    )
    assert response.json()["error"]["code"] == "classes_in_different_schools"
    assert not CheckinCampaign.objects.exists()


def test_idempotency_key_creates_once(world: Any, as_user: Any) -> None:
    client = as_user(world.teachers[0])
    first = client.post(URL, payload(world), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(URL, payload(world), format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert CheckinCampaign.objects.count() == 1


def test_list_shows_each_person_only_campaigns_of_their_classes(
    world: Any, as_user: Any, make_campaign: Any
) -> None:
    mine = make_campaign(0)
    make_campaign(1)  # class 1 of the same school
    make_campaign(2)  # another school

    def listed(user: Any) -> list[int]:
        response = as_user(user).get(URL)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert listed(world.teachers[0]) == [mine.pk]
    assert listed(world.students[0][1]) == [mine.pk]
    assert listed(world.guardians[0][2]) == [mine.pk]
    assert len(listed(world.school_admins[0])) == 2
    assert mine.pk not in listed(world.school_admins[1])
    assert mine.pk not in listed(world.teachers[2])


def test_list_filters_and_query_count(
    world: Any, as_user: Any, make_campaign: Any, django_assert_max_num_queries: Any
) -> None:
    for title in ("阅读", "跳绳", "早睡"):
        make_campaign(0, title=title)
    client = as_user(world.teachers[0])
    with django_assert_max_num_queries(6):
        response = client.get(URL, {"status": "open", "class_id": world.classes[0].pk})
    assert [row["title"] for row in response.json()["results"]] == ["早睡", "跳绳", "阅读"]
    assert client.get(URL, {"status": "closed"}).json()["results"] == []
    assert client.get(URL, {"status": "later"}).json()["error"]["code"] == "invalid_status"


def test_detail_is_404_outside_scope(world: Any, as_user: Any, campaign: Any) -> None:
    url = f"{URL}{campaign.pk}/"
    assert as_user(world.students[0][0]).get(url).json()["can_manage"] is False
    for outsider in (world.teachers[1], world.guardians[1][0], world.school_admins[1], world.teachers[2]):
        response = as_user(outsider).get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert as_user(world.teachers[0]).get(f"{URL}abc/").status_code == 404


def test_owner_edits_and_others_cannot(world: Any, as_user: Any, campaign: Any, clock: Any) -> None:
    from backend.schools.services import membership_set

    url = f"{URL}{campaign.pk}/"
    response = as_user(world.teachers[0]).patch(
        url, {"title": "每日阅读（加强版）", "weekdays": [1, 3, 5], "remind_at": None}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "每日阅读（加强版）"
    assert response.json()["weekdays"] == [1, 3, 5]

    # A co-teacher of the class sees the campaign but does not own it.
    co_teacher = world.teachers[1]
    membership_set(school_class=world.classes[0], user=co_teacher, role="teacher")
    refused = as_user(co_teacher).patch(url, {"title": "改"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_campaign_owner"
    # A guardian of the class likewise; another school's admin does not see it at all.
    assert as_user(world.guardians[0][0]).patch(url, {"title": "改"}, format="json").status_code == 403
    assert as_user(world.school_admins[1]).patch(url, {"title": "改"}, format="json").status_code == 404
    # The school's admin may edit.
    assert as_user(world.school_admins[0]).patch(url, {"makeup_days": 3}, format="json").status_code == 200
    campaign.refresh_from_db()
    assert (campaign.title, campaign.makeup_days) == ("每日阅读（加强版）", 3)


def test_edit_rules(world: Any, as_user: Any, campaign: Any) -> None:
    client = as_user(world.teachers[0])
    url = f"{URL}{campaign.pk}/"
    started = client.patch(url, {"start_date": "2026-03-05"}, format="json")
    assert started.json()["error"]["code"] == "campaign_started"
    backwards = client.patch(url, {"end_date": "2026-03-01"}, format="json")
    assert backwards.json()["error"]["code"] == "end_before_start"
    assert client.patch(url, {"weekdays": [9]}, format="json").json()["error"]["code"] == "invalid_weekdays"
    campaign.refresh_from_db()
    assert (campaign.end_date, campaign.weekdays) == (date(2026, 3, 29), [1, 2, 3, 4, 5, 6, 7])


def test_future_campaign_can_move_its_start(world: Any, as_user: Any, make_campaign: Any) -> None:
    future = make_campaign(start_date=date(2026, 3, 9))
    client = as_user(world.teachers[0])
    response = client.patch(f"{URL}{future.pk}/", {"start_date": "2026-03-05"}, format="json")
    assert response.status_code == 200
    assert response.json()["start_date"] == "2026-03-05"
    past = client.patch(f"{URL}{future.pk}/", {"start_date": "2026-03-01"}, format="json")
    assert past.json()["error"]["code"] == "start_date_in_past"


def test_close_is_idempotent_and_stops_edits(world: Any, as_user: Any, campaign: Any) -> None:
    client = as_user(world.teachers[0])
    url = f"{URL}{campaign.pk}/close/"
    first = client.post(url)
    again = client.post(url)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["status"] == "closed"
    assert first.json()["is_campaign_day"] is False
    assert first.json()["closed_at"] == again.json()["closed_at"]
    edit = client.patch(f"{URL}{campaign.pk}/", {"title": "新"}, format="json")
    assert (edit.status_code, edit.json()["error"]["code"]) == (409, "campaign_closed")
    assert AuditRecord.objects.filter(action="checkins.campaign_close").count() == 1
    assert as_user(world.students[0][0]).post(url).json()["error"]["code"] == "not_campaign_owner"
    assert as_user(world.teachers[2]).post(url).status_code == 404
