"""Who read and confirmed (author and admins only), and reminding the rest."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.schools.models import Org
from backend.schools.services import org_admin_grant, org_create

from .conftest import DAYTIME, pushed_tokens, texted, texted_phones

pytestmark = pytest.mark.django_db

PHONE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def published(demo, class2, guardians2, post_notice, client_for):
    """A notice to 三年级(2)班 that asks for confirmation; 02 read it, 03 and 25 confirmed."""
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]
    client_for(guardians2[1]).post(f"/api/v1/notices/{notice_id}/read/")
    client_for(guardians2[2]).post(f"/api/v1/notices/{notice_id}/confirm/")
    client_for(guardians2[24]).post(f"/api/v1/notices/{notice_id}/confirm/")
    return notice_id


def test_author_sees_every_recipient_with_channels_and_sms_status(demo, guardians2, published, client_for):
    response = client_for(demo.head2).get(f"/api/v1/notices/{published}/receipts/")

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    rows = {r["recipient"]["id"]: r for r in body["results"]}
    assert set(rows) == {g.pk for g in guardians2}
    app_user, read, sms_user = rows[guardians2[0].pk], rows[guardians2[1].pk], rows[guardians2[24].pk]
    assert app_user["channels"] == ["websocket", "push"]
    assert app_user["sms_status"] is None
    assert (app_user["read_at"], app_user["confirmed_at"]) == (None, None)
    assert read["read_at"].startswith("2026-11-23T10:00")
    assert sms_user["channels"] == ["websocket", "sms"]
    assert sms_user["sms_status"] is not None
    assert sms_user["confirmed_at"] is not None
    student = app_user["student"]
    assert app_user["students"] == [student]
    assert app_user["recipient"]["display_name"].startswith(student["name"])
    # other parents' phone numbers are never shown
    assert not PHONE.search(response.content.decode())


@pytest.mark.parametrize(
    ("state", "expected"),
    [("unread", 27), ("read", 3), ("unconfirmed", 28), ("confirmed", 2), (None, 30)],
)
def test_receipts_filter_by_state(demo, published, client_for, state, expected):
    query = f"?state={state}" if state else ""
    response = client_for(demo.head2).get(f"/api/v1/notices/{published}/receipts/{query}")
    assert len(response.json()["results"]) == expected


def test_bad_state_is_refused(demo, published, client_for):
    response = client_for(demo.head2).get(f"/api/v1/notices/{published}/receipts/?state=lost")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_state"


def test_receipts_page_in_constant_queries(demo, published, client_for, django_assert_num_queries):
    author = client_for(demo.head2)
    # auth (user), admin paths, notice, receipts page, delivery states, sms status
    with django_assert_num_queries(6):
        small = author.get(f"/api/v1/notices/{published}/receipts/?page_size=3")
    with django_assert_num_queries(6):
        full = author.get(f"/api/v1/notices/{published}/receipts/")
    assert len(small.json()["results"]) == 3
    assert small.json()["next"]
    assert len(full.json()["results"]) == 30


def test_admins_above_see_receipts_others_get_404(
    demo, school, guardians2, guardians1, published, client_for
):
    other_school = org_create(name="西工区第二小学", kind=Org.Kind.SCHOOL, parent=school.get_parent())
    other_admin = type(demo.admin).objects.create_user("13811112222", None, name="王校长")
    org_admin_grant(org=other_school, user=other_admin, role="school_admin")

    for viewer in (demo.admin, demo.bureau):
        response = client_for(viewer).get(f"/api/v1/notices/{published}/receipts/")
        assert response.status_code == 200
        assert len(response.json()["results"]) == 30
    for outsider in (demo.head1, guardians2[0], guardians1[0], other_admin):
        response = client_for(outsider).get(f"/api/v1/notices/{published}/receipts/")
        assert response.status_code == 404, outsider
        assert response.json()["error"]["code"] == "not_found"


def test_remind_the_unconfirmed_by_push_and_sms(demo, guardians2, published, client_for, time_machine):
    before_push, before_sms = len(pushed_tokens()), len(texted())

    response = client_for(demo.head2).post(
        f"/api/v1/notices/{published}/reminders/", {"channel": "auto"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"reminded": 28}
    from backend.delivery.push import push_backend

    reminders = push_backend().outbox[before_push:]
    assert sorted(m.token for m in reminders) == [
        f"demo-fcm-token-{i:02d}" for i in range(1, 21) if i != 3
    ]  # 02 read but has not confirmed: reminded too
    assert all(m.title.startswith("提醒：") for m in reminders)
    texts = texted()[before_sms:]
    assert sorted(m.phone for m in texts) == sorted(g.phone for g in guardians2[20:] if g != guardians2[24])

    too_soon = client_for(demo.head2).post(
        f"/api/v1/notices/{published}/reminders/", {"channel": "push"}, format="json"
    )
    assert too_soon.status_code == 429
    assert too_soon.json()["error"]["code"] == "reminder_too_soon"
    assert len(push_backend().outbox) == before_push + 19

    time_machine.move_to(DAYTIME + timedelta(minutes=11))
    later = client_for(demo.head2).post(
        f"/api/v1/notices/{published}/reminders/", {"channel": "sms"}, format="json"
    )
    assert later.status_code == 200
    assert later.json() == {"reminded": 28}


def test_only_the_author_reminds(demo, guardians2, published, client_for):
    for outsider in (demo.admin, demo.head1, guardians2[0]):
        response = client_for(outsider).post(f"/api/v1/notices/{published}/reminders/", {}, format="json")
        assert response.status_code == 404
    assert texted_phones() == sorted(g.phone for g in guardians2[20:])  # the first round only


def test_bad_channel_is_refused(demo, published, client_for):
    response = client_for(demo.head2).post(
        f"/api/v1/notices/{published}/reminders/", {"channel": "fax"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_nobody_left_to_remind(demo, class2, guardians2, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk], require_confirmation=False).json()["id"]
    for guardian in guardians2:
        client_for(guardian).post(f"/api/v1/notices/{notice_id}/read/")

    response = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/reminders/", {}, format="json")

    assert response.json() == {"reminded": 0}
