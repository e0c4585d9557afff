"""Teacher views (who is missing today), streaks through the API, and the cost of a
check-in: constant queries, nothing shared updated."""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

import pytest
from django.db import connection

from backend.checkins.models import Checkin, CheckinCampaign
from backend.checkins.services import campaign_create, checkin_submit
from backend.delivery.rules import SHANGHAI

from .conftest import body, checkin_url, events_of

pytestmark = pytest.mark.django_db


def test_stats_for_the_teacher(world: Any, as_user: Any, campaign: Any, clock: Any) -> None:
    first, second, third = world.students[0]
    checkin_submit(user=first, campaign=campaign, student_id=first.pk, text="读书", client_id="1")
    url = f"/api/v1/checkin-campaigns/{campaign.pk}/stats/"
    teacher = as_user(world.teachers[0])

    today = teacher.get(url).json()
    assert today == {
        "date": "2026-03-02",
        "campaign_day": True,
        "expected": 3,
        "done": 1,
        "missing": [
            {"id": s.pk, "name": s.name, "class_id": world.classes[0].pk}
            for s in sorted((second, third), key=lambda s: s.name)
        ],
    }
    # A make-up the next day counts for the day it fills.
    clock.move_to(datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI))
    checkin_submit(
        user=second, campaign=campaign, student_id=second.pk, text="补", client_id="2", day=date(2026, 3, 2)
    )
    assert as_user(world.teachers[0]).get(url, {"date": "2026-03-02"}).json()["done"] == 2
    assert as_user(world.school_admins[0]).get(url, {"date": "2026-03-02"}).json()["expected"] == 3
    assert as_user(world.teachers[0]).get(url, {"date": "2026-03-31"}).json() == {
        "date": "2026-03-31",
        "campaign_day": False,
        "expected": 0,
        "done": 0,
        "missing": [],
    }
    bad = as_user(world.teachers[0]).get(url, {"date": "yesterday"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_date")
    refused = as_user(world.students[0][0]).get(url)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "teachers_only")


def test_stats_query_count_does_not_grow_with_the_class(
    demo: Any, as_user: Any, django_assert_max_num_queries: Any
) -> None:
    from backend.schools.models import SchoolClass

    classes = list(SchoolClass.objects.filter(name__in=["三年级(1)班", "三年级(2)班"]))
    math = demo.user("13800000003")  # teaches both classes
    campaign = campaign_create(
        teacher=math,
        class_ids=[c.pk for c in classes],
        title="口算",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 29),
        content_types=[],
    )
    client = as_user(math)
    with django_assert_max_num_queries(10):
        data = client.get(f"/api/v1/checkin-campaigns/{campaign.pk}/stats/").json()
    assert (data["expected"], data["done"], len(data["missing"])) == (60, 0, 60)


def test_streaks_endpoint(world: Any, as_user: Any, make_campaign: Any, clock: Any) -> None:
    campaign = make_campaign(weekdays=[1, 3, 5], makeup_days=2)  # Mon, Wed, Fri
    student, guardian = world.students[0][0], world.guardians[0][0]
    for moment, day in (
        (datetime(2026, 3, 2, 20, 0, tzinfo=SHANGHAI), None),  # Monday
        (datetime(2026, 3, 6, 20, 0, tzinfo=SHANGHAI), None),  # Friday
        (datetime(2026, 3, 6, 20, 5, tzinfo=SHANGHAI), date(2026, 3, 4)),  # Wednesday, made up
        (datetime(2026, 3, 9, 20, 0, tzinfo=SHANGHAI), None),  # Monday
    ):
        clock.move_to(moment)
        checkin_submit(
            user=guardian, campaign=campaign, student_id=student.pk, text="读", client_id=str(moment), day=day
        )
    url = f"/api/v1/checkin-campaigns/{campaign.pk}/streaks/"

    clock.move_to(datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI))  # Tuesday: not a campaign day
    expected = {"student_id": student.pk, "current": 4, "longest": 4, "total": 4}
    assert as_user(student).get(url).json() == expected
    assert as_user(guardian).get(url, {"student_id": student.pk}).json() == expected
    assert as_user(world.teachers[0]).get(url, {"student_id": student.pk}).json() == expected
    assert as_user(guardian).get(url).json()["error"]["code"] == "student_id_required"
    assert as_user(guardian).get(url, {"student_id": "x"}).json()["error"]["code"] == "invalid_student_id"


@pytest.fixture
def big_class(demo: Any, clock: Any) -> tuple[CheckinCampaign, list[Any], list[Any]]:
    from backend.schools.models import SchoolClass

    class2 = SchoolClass.objects.get(name="三年级(2)班")
    campaign = campaign_create(
        teacher=demo.head2,
        class_ids=[class2.pk],
        title="跳绳",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 29),
        content_types=["text"],
    )
    students = [demo.user(f"S202602{i:02d}") for i in range(1, 31)]
    guardians = [demo.user(f"139000000{i:02d}") for i in range(1, 31)]
    return campaign, students, guardians


def test_checkin_queries_are_constant(
    big_class: Any,
    clock: Any,
    as_user: Any,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    campaign, students, guardians = big_class
    for i in (0, 10, 29):
        # scope, submit, render: no per-class growth (the announcement runs after the
        # count, when the capture of on_commit callbacks ends)
        with (
            django_capture_on_commit_callbacks(execute=True),
            django_assert_max_num_queries(11),
        ):
            response = as_user(guardians[i]).post(
                checkin_url(campaign), body(student_id=students[i].pk), format="json"
            )
        assert response.status_code == 201
    assert len(events_of(campaign.created_by, "checkin.created")) == 3
    # Telling the teachers is its own short transaction after commit, also constant.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        as_user(students[5]).post(checkin_url(campaign), body(student_id=students[5].pk), format="json")
    with django_assert_max_num_queries(16):
        for callback in callbacks:
            callback()
    assert len(events_of(campaign.created_by, "checkin.created")) == 4
    # No shared row changed: the campaign was not touched by any of it.
    campaign_before = CheckinCampaign.objects.values().get(pk=campaign.pk)
    as_user(students[6]).post(checkin_url(campaign), body(student_id=students[6].pk), format="json")
    assert CheckinCampaign.objects.values().get(pk=campaign.pk) == campaign_before


def test_list_queries_are_constant(big_class: Any, as_user: Any, django_assert_max_num_queries: Any) -> None:
    campaign, students, _ = big_class
    for student in students[:20]:
        checkin_submit(
            user=student, campaign=campaign, student_id=student.pk, text="跳了 100 下", client_id="1"
        )
    client = as_user(campaign.created_by)
    with django_assert_max_num_queries(10):
        rows = client.get(checkin_url(campaign)).json()["results"]
    assert len(rows) == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_class_checking_in_at_once_on_postgresql(big_class: Any, clock: Any) -> None:
    """Thirty concurrent check-ins into one campaign: all succeed, none waits on a shared
    row; a concurrent duplicate (student and parent at once) gets already_checked_in."""
    campaign, students, guardians = big_class
    results: list[str] = []
    barrier = threading.Barrier(len(students) + 1)

    def check_in(user: Any, student: Any, client_id: str) -> None:
        from backend.conventions.errors import ApiError

        try:
            barrier.wait(timeout=10)
            checkin_submit(
                user=user, campaign=campaign, student_id=student.pk, text="跳绳", client_id=client_id
            )
            results.append("ok")
        except ApiError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=check_in, args=(s, s, "mine")) for s in students]
    threads.append(threading.Thread(target=check_in, args=(guardians[0], students[0], "parent")))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["already_checked_in"] + ["ok"] * 30 or sorted(results) == ["ok"] * 30 + [
        "already_checked_in"
    ]
    assert Checkin.objects.filter(campaign=campaign).count() == 30
