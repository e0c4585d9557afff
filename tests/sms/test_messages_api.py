"""GET sms/messages/: scope, filters, masked numbers, constant queries."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from backend.sms.services import sms_send_for_users

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.combine(datetime.now(SHANGHAI).date() + timedelta(days=1), time(10, 0), tzinfo=SHANGHAI)


@pytest.fixture
def sent(world, funded, client_as, committed):
    """A mass text from the school admin to class 0 and a notice text from teacher 0."""
    with time_machine.travel(DAY, tick=False):
        job = committed(
            client_as(world.school_admins[0]).post,
            "/api/v1/sms/jobs/",
            {
                "account_id": funded.school.pk,
                "template_id": "safety_reminder",
                "params": {"topic": "雨天路滑"},
                "audience": {"class_ids": [world.classes[0].pk]},
            },
            format="json",
        ).json()

    def notice() -> None:
        with transaction.atomic():
            sms_send_for_users(
                school_id=world.schools[0].pk,
                sender_id=world.teachers[0].pk,
                template="notice",
                params_by_user={g.pk: {"class": "三年级(1)班", "title": "春游"} for g in world.guardians[0]},
                source="notice:42:notice.created:0",
                urgent=False,
            )

    committed(notice)
    return job


def listed(client, query=""):
    response = client.get(f"/api/v1/sms/messages/{query}")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_admins_see_everything_of_their_school_with_full_numbers(world, sent, client_as):
    rows = listed(client_as(world.school_admins[0]))
    assert len(rows) == 6
    assert {r["phone"] for r in rows} == {g.phone for g in world.guardians[0]}
    assert {r["status"] for r in rows} == {"submitted"}
    assert len(listed(client_as(world.bureau_admins[0]))) == 6
    assert listed(client_as(world.school_admins[1])) == []


def test_teachers_see_their_own_texts_masked(world, sent, client_as):
    rows = listed(client_as(world.teachers[0]))
    assert len(rows) == 3
    phone = world.guardians[0][0].phone
    assert f"{phone[:3]}****{phone[-4:]}" in {r["phone"] for r in rows}
    assert all("****" in r["phone"] for r in rows)
    assert listed(client_as(world.teachers[1])) == []
    assert listed(client_as(world.guardians[0][0])) == []


def test_filters(world, sent, client_as):
    admin = client_as(world.school_admins[0])
    assert {r["job_id"] for r in listed(admin, f"?job={sent['id']}")} == {sent["id"]}
    assert len(listed(admin, "?notice=42")) == 3
    assert listed(admin, "?notice=4") == []
    assert len(listed(admin, "?status=submitted")) == 6
    assert listed(admin, "?status=delivered") == []
    bad = admin.get("/api/v1/sms/messages/?status=lost")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid")


def test_message_list_queries_do_not_grow_with_the_page(world, sent, client_as, django_assert_num_queries):
    admin = client_as(world.school_admins[0])
    with django_assert_num_queries(3):
        assert len(listed(admin, "?page_size=2")) == 2
    with django_assert_num_queries(3):
        assert len(listed(admin, "?page_size=6")) == 6
