"""Reading and confirming: idempotent, counted once, stops escalation at the right
moment, refused when it makes no sense."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.delivery.models import Delivery
from backend.delivery.push import push_backend
from backend.delivery.tasks import delivery_tick
from backend.notices.models import NoticeReceipt

from .conftest import DAYTIME, pushed_tokens, run

pytestmark = pytest.mark.django_db


def _stats(client_for, author, notice_id):
    return client_for(author).get(f"/api/v1/notices/{notice_id}/").json()["stats"]


def test_read_then_confirm_counts_each_once(demo, class2, guardians2, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]
    parent = client_for(guardians2[0])

    first = parent.post(f"/api/v1/notices/{notice_id}/read/")
    second = parent.post(f"/api/v1/notices/{notice_id}/read/")

    assert first.status_code == second.status_code == 200
    assert first.json()["read_at"].startswith("2026-11-23T10:00")
    assert first.json() == second.json()
    assert first.json()["confirmed_at"] is None
    assert _stats(client_for, demo.head2, notice_id) == {"recipients": 30, "read": 1, "confirmed": 0}

    confirmed = parent.post(f"/api/v1/notices/{notice_id}/confirm/")
    parent.post(f"/api/v1/notices/{notice_id}/confirm/")

    assert confirmed.status_code == 200
    assert confirmed.json()["confirmed_at"] is not None
    assert confirmed.json()["read_at"] == first.json()["read_at"]
    assert _stats(client_for, demo.head2, notice_id) == {"recipients": 30, "read": 1, "confirmed": 1}
    mine = parent.get(f"/api/v1/notices/{notice_id}/").json()["my_receipt"]
    assert (mine["read_at"], mine["confirmed_at"]) == (
        first.json()["read_at"],
        confirmed.json()["confirmed_at"],
    )
    assert parent.get("/api/v1/notices/unread-count/").json() == {"unread": 0, "unconfirmed": 0}


def test_confirm_implies_read(demo, class2, guardians2, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    response = client_for(guardians2[1]).post(f"/api/v1/notices/{notice_id}/confirm/")

    assert response.json()["read_at"] == response.json()["confirmed_at"] is not None
    assert _stats(client_for, demo.head2, notice_id) == {"recipients": 30, "read": 1, "confirmed": 1}


def test_confirming_a_notice_that_needs_no_confirmation_is_refused(
    demo, class2, guardians2, post_notice, client_for
):
    notice_id = post_notice(demo.head2, [class2.pk], require_confirmation=False).json()["id"]

    response = client_for(guardians2[0]).post(f"/api/v1/notices/{notice_id}/confirm/")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "confirmation_not_required"
    receipt = NoticeReceipt.objects.get(notice_id=notice_id, recipient=guardians2[0])
    assert (receipt.read_at, receipt.confirmed_at) == (None, None)
    assert _stats(client_for, demo.head2, notice_id) == {"recipients": 30, "read": 0, "confirmed": 0}


def test_people_it_was_not_sent_to_cannot_read_it(demo, class2, guardians1, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    for outsider in (guardians1[0], demo.head1, demo.head2, demo.admin):
        for action in ("read", "confirm"):
            response = client_for(outsider).post(f"/api/v1/notices/{notice_id}/{action}/")
            assert response.status_code == 404, (outsider, action)
    assert client_for(guardians1[0]).post("/api/v1/notices/nope/read/").status_code == 404
    assert _stats(client_for, demo.head2, notice_id)["read"] == 0


def test_escalation_stops_on_confirm_when_confirmation_is_required(
    demo, class2, guardians2, post_notice, client_for, time_machine
):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]
    client_for(guardians2[1]).post(f"/api/v1/notices/{notice_id}/read/")  # read, not confirmed
    client_for(guardians2[2]).post(f"/api/v1/notices/{notice_id}/confirm/")
    first_round = len(pushed_tokens())

    time_machine.move_to(DAYTIME + timedelta(minutes=31))
    run(delivery_tick)

    again = _escalation_tokens(first_round)
    assert "demo-fcm-token-02" in again  # only read: still escalates
    assert "demo-fcm-token-03" not in again  # confirmed: done
    assert "demo-fcm-token-01" in again
    acknowledged = Delivery.objects.filter(acknowledged_at__isnull=False).values_list(
        "recipient_id", flat=True
    )
    assert list(acknowledged) == [guardians2[2].pk]


def test_reading_stops_escalation_when_no_confirmation_is_asked(
    demo, class2, guardians2, post_notice, client_for, time_machine
):
    notice_id = post_notice(demo.head2, [class2.pk], require_confirmation=False).json()["id"]
    client_for(guardians2[1]).post(f"/api/v1/notices/{notice_id}/read/")
    first_round = len(pushed_tokens())

    time_machine.move_to(DAYTIME + timedelta(minutes=31))
    run(delivery_tick)

    again = _escalation_tokens(first_round)
    assert "demo-fcm-token-02" not in again
    assert "demo-fcm-token-01" in again


def _escalation_tokens(skip: int) -> list[str]:
    """Tokens pushed after the first `skip` pushes (the escalation round)."""
    return [m.token for m in push_backend().outbox[skip:]]
