"""stats/ endpoints: totals per school / per teacher, evidence, scope (404 outside)."""

from __future__ import annotations

from typing import Any

import pytest

from backend.stats.models import TeacherWeekScore
from backend.stats.selectors import subtree_school_totals
from backend.stats.services import stats_compute_week

from .conftest import NOW, WEEK, add_students, at, make_campaign, make_checkins, make_notice

SCORES = "/api/v1/stats/scores/"


@pytest.fixture
def scored(world: Any) -> Any:
    teacher, klass = world.teachers[0], world.classes[0]
    families = [g for _, g in add_students(klass, 10)]
    notice = make_notice(teacher, klass, families, at=at(WEEK))
    campaign = make_campaign(teacher, klass)
    make_checkins(campaign, klass, world.students[0], day=WEEK)
    stats_compute_week(week=WEEK, now=NOW)
    world.extra.update(notice=notice, campaign=campaign)
    return world


def test_bureau_admin_sees_schools_of_the_district(client_for: Any, scored: Any) -> None:
    response = client_for(scored.bureau_admins[0]).get(
        SCORES, {"org_id": scored.counties[0].pk, "week": WEEK.isoformat()}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["level"] == "school"
    assert body["row_labels"]["class_notice"] == "班级通知"
    assert body["results"] == [
        {
            "id": scored.schools[0].pk,
            "name": "西工区第一小学",
            "total": 6,
            "rows": {
                "class_setup": 0,
                "class_notice": 5,
                "class_activity": 0,
                "habit": 1,
                "correction": 0,
                "guided_test": 0,
                "login": 0,
                "profile": 0,
            },
        }
    ]
    assert body["totals"]["total"] == 6


def test_school_admin_sees_teachers_of_the_school(client_for: Any, scored: Any) -> None:
    response = client_for(scored.school_admins[0]).get(SCORES, {"org_id": scored.schools[0].pk})
    assert response.status_code == 200  # week defaults to this week
    body = response.json()
    assert body["level"] == "teacher"
    assert [(r["name"], r["total"]) for r in body["results"]] == [("教师01", 6), ("教师02", 0)]


def test_other_districts_bureau_admin_gets_404(client_for: Any, scored: Any) -> None:
    response = client_for(scored.bureau_admins[1]).get(SCORES, {"org_id": scored.counties[0].pk})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    teacher_url = f"{SCORES}teachers/{scored.teachers[0].pk}/"
    assert client_for(scored.bureau_admins[1]).get(teacher_url).status_code == 404


def test_school_admin_cannot_see_the_county(client_for: Any, scored: Any) -> None:
    response = client_for(scored.school_admins[0]).get(SCORES, {"org_id": scored.counties[0].pk})
    assert response.status_code == 404


def test_teacher_gets_404_on_admin_endpoints(client_for: Any, scored: Any) -> None:
    client = client_for(scored.teachers[0])
    assert client.get(SCORES, {"org_id": scored.schools[0].pk}).status_code == 404
    assert client.get(f"{SCORES}teachers/{scored.teachers[1].pk}/").status_code == 404
    report = client.get(
        "/api/v1/stats/reports/quarterly.xlsx", {"org_id": scored.schools[0].pk, "quarter": "2026Q4"}
    )
    assert report.status_code == 404


def test_bad_week_and_missing_org(client_for: Any, scored: Any) -> None:
    client = client_for(scored.bureau_admins[0])
    tuesday = client.get(SCORES, {"org_id": scored.counties[0].pk, "week": "2026-11-24"})
    assert (tuesday.status_code, tuesday.json()["error"]["code"]) == (400, "week_not_monday")
    garbage = client.get(SCORES, {"org_id": scored.counties[0].pk, "week": "soon"})
    assert garbage.json()["error"]["code"] == "invalid_week"
    assert client.get(SCORES).json()["error"]["code"] == "org_id_required"


def test_teacher_detail_names_the_notice_and_the_campaign(client_for: Any, scored: Any) -> None:
    url = f"{SCORES}teachers/{scored.teachers[0].pk}/"
    response = client_for(scored.school_admins[0]).get(url, {"week": WEEK.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 6
    rows = {r["row"]: r for r in body["rows"]}
    assert rows["class_notice"]["items"][0] | {} == {
        "source_type": "notice",
        "source_id": scored.extra["notice"].pk,
        "label": "通知《家长会通知》",
        "date": "2026-11-23",
        "points": 5,
        "capped": False,
        "figures": {"participants": 10},
    }
    assert rows["habit"]["items"][0]["source_id"] == scored.extra["campaign"].pk
    assert rows["habit"]["label"] == "习惯养成"


def test_teacher_may_read_own_detail(client_for: Any, scored: Any) -> None:
    response = client_for(scored.teachers[0]).get(f"{SCORES}teachers/{scored.teachers[0].pk}/")
    assert response.status_code == 200
    assert response.json()["total"] == 6


def test_subtree_totals_take_two_queries_for_500_schools(db: Any, django_assert_num_queries: Any) -> None:
    from backend.accounts.models import User
    from backend.schools.models import Org
    from backend.schools.services import org_create

    province = org_create(name="河南省", kind=Org.Kind.PROVINCE)
    county = org_create(name="大区", kind=Org.Kind.COUNTY, parent=province)
    User.objects.bulk_create([User(name=f"教师{i}", phone=f"1370000{i:04d}") for i in range(500)])
    teachers = list(User.objects.order_by("id"))
    schools = [org_create(name=f"学校{i:03d}", kind=Org.Kind.SCHOOL, parent=county) for i in range(500)]
    TeacherWeekScore.objects.bulk_create(
        [
            TeacherWeekScore(teacher=t, school=s, week=WEEK, row="login", points=3)
            for t, s in zip(teachers, schools, strict=False)
        ]
        + [
            TeacherWeekScore(teacher=t, school=s, week=WEEK, row="habit", points=1)
            for t, s in zip(teachers[:100], schools[:100], strict=False)
        ]
    )
    with django_assert_num_queries(2):
        rows = subtree_school_totals(org=county, weeks=[WEEK])
    assert len(rows) == 500
    assert sum(r.total for r in rows) == 1600
    assert rows[0].rows["habit"] == 1
    assert rows[-1].rows["habit"] == 0


def test_scores_endpoint_query_count_does_not_grow_with_schools(
    client_for: Any, scored: Any, django_assert_max_num_queries: Any
) -> None:
    from backend.schools.models import Org
    from backend.schools.services import org_create

    client = client_for(scored.bureau_admins[0])
    for i in range(30):
        org_create(name=f"新学校{i}", kind=Org.Kind.SCHOOL, parent=scored.counties[0])
    with django_assert_max_num_queries(8):
        response = client.get(SCORES, {"org_id": scored.counties[0].pk, "week": WEEK.isoformat()})
    assert len(response.json()["results"]) == 31
