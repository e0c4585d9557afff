"""Who sees what: every endpoint answers 404 to outsiders, lists hold no foreign rows,
and class-wide display exists only when the school turns it on."""

from __future__ import annotations

import re
from typing import Any

import pytest

from backend.checkins.models import Checkin, CheckinComment, CheckinLike
from backend.checkins.services import checkin_submit
from backend.schools.models import Org
from backend.schools.services import membership_set

pytestmark = pytest.mark.django_db


def submit(campaign: Any, student: Any, *, by: Any = None, text: str = "打卡") -> Checkin:
    checkin, _ = checkin_submit(
        user=by or student, campaign=campaign, student_id=student.pk, text=text, client_id=f"s{student.pk}"
    )
    return checkin


@pytest.fixture
def setup(world: Any, campaign: Any) -> dict[str, Any]:
    mine = [submit(campaign, s) for s in world.students[0]]
    return {"campaign": campaign, "checkins": mine}


def outsiders(world: Any) -> list[Any]:
    """Another class's teacher, another class's guardian and student, another school's admin."""
    return [
        world.teachers[1],
        world.guardians[1][0],
        world.students[1][0],
        world.school_admins[1],
        world.teachers[2],
    ]


def test_every_endpoint_is_404_for_outsiders(world: Any, as_user: Any, setup: Any) -> None:
    campaign, checkin = setup["campaign"], setup["checkins"][0]
    Org.objects.filter(pk=world.schools[0].pk).update(allow_class_visibility=True)
    base = f"/api/v1/checkin-campaigns/{campaign.pk}"
    calls = [
        ("get", f"{base}/", None),
        ("patch", f"{base}/", {"title": "x"}),
        ("post", f"{base}/close/", None),
        ("get", f"{base}/stats/", None),
        ("get", f"{base}/checkins/", None),
        ("post", f"{base}/checkins/", {"student_id": world.students[0][0].pk, "text": "x", "client_id": "o"}),
        ("get", f"{base}/streaks/?student_id={world.students[0][0].pk}", None),
        ("get", f"{base}/ranking/", None),
        ("get", f"/api/v1/checkins/{checkin.pk}/", None),
        ("post", f"/api/v1/checkins/{checkin.pk}/comments/", {"text": "好"}),
        ("post", f"/api/v1/checkins/{checkin.pk}/likes/", None),
        ("delete", f"/api/v1/checkins/{checkin.pk}/likes/", None),
    ]
    for user in outsiders(world):
        client = as_user(user)
        for method, url, data in calls:
            response = getattr(client, method)(url, data, format="json")
            assert response.status_code == 404, (user.name, method, url, response.json())
            assert response.json()["error"]["code"] == "not_found"
    assert Checkin.objects.count() == 3
    assert not CheckinComment.objects.exists()
    assert not CheckinLike.objects.exists()


def test_in_class_but_other_family(world: Any, as_user: Any, setup: Any) -> None:
    """A guardian of the class sees the campaign, but not other children's check-ins."""
    campaign, others = setup["campaign"], setup["checkins"][:2]
    guardian = world.guardians[0][2]
    client = as_user(guardian)
    base = f"/api/v1/checkin-campaigns/{campaign.pk}"

    assert client.get(f"{base}/").status_code == 200
    rows = client.get(f"{base}/checkins/").json()["results"]
    assert [r["student"]["id"] for r in rows] == [world.students[0][2].pk]
    assert client.get(f"{base}/checkins/", {"student_id": world.students[0][0].pk}).json()["results"] == []
    for checkin in others:
        assert client.get(f"/api/v1/checkins/{checkin.pk}/").status_code == 404
        assert client.post(f"/api/v1/checkins/{checkin.pk}/comments/", {"text": "赞"}).status_code == 404
    assert client.get(f"{base}/streaks/", {"student_id": world.students[0][0].pk}).status_code == 404
    stats = client.get(f"{base}/stats/")
    assert (stats.status_code, stats.json()["error"]["code"]) == (403, "teachers_only")


def test_each_sees_exactly_their_rows(world: Any, as_user: Any, world_campaign_two_classes: Any) -> None:
    campaign, by_class = world_campaign_two_classes
    url = f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/"

    def ids(user: Any, **params: Any) -> set[int]:
        response = as_user(user).get(url, params)
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    class0 = {c.pk for c in by_class[0]}
    class1 = {c.pk for c in by_class[1]}
    assert ids(world.teachers[0]) == class0
    assert ids(world.teachers[1]) == class1
    assert ids(world.extra["both"]) == class0 | class1
    assert ids(world.school_admins[0]) == class0 | class1
    assert ids(world.students[0][0]) == {by_class[0][0].pk}
    assert ids(world.guardians[1][2]) == {by_class[1][2].pk}
    # Filters never widen the scope.
    assert ids(world.teachers[0], student_id=world.students[1][0].pk) == set()
    assert ids(world.teachers[0], date="2026-03-02") == class0


@pytest.fixture
def world_campaign_two_classes(world: Any, make_campaign: Any) -> tuple[Any, list[list[Checkin]]]:
    """A campaign of a teacher of both classes of school 0, everyone checked in."""
    from backend.accounts.services import user_ensure

    both, _ = user_ensure(name="赵老师", phone="13611110000", password="pw-123456")
    for school_class in world.classes[:2]:
        membership_set(school_class=school_class, user=both, role="teacher")
    world.extra["both"] = both
    campaign = make_campaign(teacher=both, classes=world.classes[:2])
    return campaign, [[submit(campaign, s) for s in world.students[i]] for i in (0, 1)]


def test_class_scope_and_ranking_need_the_school_setting(world: Any, as_user: Any, setup: Any) -> None:
    campaign = setup["campaign"]
    client = as_user(world.guardians[0][0])
    base = f"/api/v1/checkin-campaigns/{campaign.pk}"
    for url in (f"{base}/checkins/?scope=class", f"{base}/ranking/"):
        response = client.get(url)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "class_visibility_off")
    assert as_user(world.teachers[0]).get(f"{base}/ranking/").status_code == 403
    assert client.get(f"{base}/checkins/?scope=everyone").json()["error"]["code"] == "invalid_scope"


def test_class_scope_shows_classmates_under_stable_pseudonyms(world: Any, as_user: Any, setup: Any) -> None:
    campaign = setup["campaign"]
    Org.objects.filter(pk=world.schools[0].pk).update(allow_class_visibility=True)
    guardian, child = world.guardians[0][0], world.students[0][0]
    url = f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/?scope=class"

    rows = as_user(guardian).get(url).json()["results"]
    assert len(rows) == 3
    own = [r for r in rows if r["student"]["id"] == child.pk]
    others = [r for r in rows if r["student"]["id"] != child.pk]
    assert own[0]["student"]["name"] == child.name
    assert own[0]["comments"] == []
    assert len(others) == 2
    for row in others:
        assert row["student"]["id"] is None
        assert re.fullmatch(r"同学[A-Z]", row["student"]["name"])
        assert row["submitted_by"] is None
        assert row["comments"] is None
    names = {r["student"]["name"] for r in others}
    assert len(names) == 2
    # The same child keeps the same pseudonym on every call and for every viewer.
    aliased = {r["id"]: r["student"]["name"] for r in others}
    again = as_user(world.guardians[0][0]).get(url).json()["results"]
    assert {r["id"]: r["student"]["name"] for r in again if r["student"]["id"] is None} == aliased
    third = {r["id"]: r["student"]["name"] for r in as_user(world.students[0][1]).get(url).json()["results"]}
    shared = [checkin_id for checkin_id in aliased if third[checkin_id].startswith("同学")]
    assert shared
    assert all(third[i] == aliased[i] for i in shared)
    serialized = str(rows)
    for student in world.students[0][1:]:
        assert student.name not in serialized
    # Other classes and schools still see nothing.
    assert as_user(world.guardians[1][0]).get(url).status_code == 404


def test_names_public_shows_names(world: Any, as_user: Any, setup: Any) -> None:
    campaign = setup["campaign"]
    Org.objects.filter(pk=world.schools[0].pk).update(allow_class_visibility=True, allow_names_public=True)
    rows = (
        as_user(world.students[0][0])
        .get(f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/", {"scope": "class"})
        .json()["results"]
    )
    assert {r["student"]["name"] for r in rows} == {s.name for s in world.students[0]}


def test_ranking_with_pseudonyms(world: Any, as_user: Any, setup: Any, clock: Any) -> None:
    from datetime import datetime

    from backend.delivery.rules import SHANGHAI

    campaign = setup["campaign"]
    Org.objects.filter(pk=world.schools[0].pk).update(allow_class_visibility=True)
    clock.move_to(datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI))
    checkin_submit(
        user=world.students[0][2],
        campaign=campaign,
        student_id=world.students[0][2].pk,
        text="第二天",
        client_id="d2",
    )
    url = f"/api/v1/checkin-campaigns/{campaign.pk}/ranking/"

    ranking = as_user(world.guardians[0][0]).get(url).json()
    assert ranking["names_public"] is False
    assert ranking["next"] is None
    rows = ranking["results"]
    assert [(r["rank"], r["total"], r["current"]) for r in rows] == [(1, 2, 2), (2, 1, 1), (2, 1, 1)]
    assert rows[0]["student"]["id"] is None  # someone else's child leads
    mine = [r for r in rows if r["is_mine"]]
    assert [r["student"] for r in mine] == [
        {"id": world.students[0][0].pk, "name": world.students[0][0].name}
    ]

    staff = as_user(world.teachers[0]).get(url).json()["results"]
    assert staff[0]["student"] == {"id": world.students[0][2].pk, "name": world.students[0][2].name}


def test_bureau_admin_sees_the_campaign_but_no_childrens_checkins(
    world: Any, as_user: Any, setup: Any
) -> None:
    campaign, checkin = setup["campaign"], setup["checkins"][0]
    client = as_user(world.bureau_admins[0])
    base = f"/api/v1/checkin-campaigns/{campaign.pk}"
    assert client.get(f"{base}/").status_code == 200
    assert client.get(f"{base}/checkins/").json()["results"] == []
    assert client.get(f"/api/v1/checkins/{checkin.pk}/").status_code == 404
    assert client.get(f"{base}/stats/").json()["error"]["code"] == "teachers_only"
    assert (
        client.patch(f"{base}/", {"title": "x"}, format="json").json()["error"]["code"]
        == "not_campaign_owner"
    )
