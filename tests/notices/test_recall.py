"""Recalling a notice: recipients see it as recalled, are told, and are not chased."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.audit.models import AuditRecord
from backend.delivery.tasks import delivery_tick
from backend.realtime.models import UserEvent

from .conftest import DAYTIME, pushed_tokens, run, texted

pytestmark = pytest.mark.django_db


def test_recipients_see_a_recalled_notice_without_its_content(
    demo, class2, guardians2, post_notice, client_for, uploaded
):
    notice_id = post_notice(demo.head2, [class2.pk], attachment_ids=uploaded(demo.head2)).json()["id"]

    response = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/recall/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["recalled"]) == ("recalled", True)
    assert response.json()["title"] == "春游通知"  # the author still sees what was recalled
    parent = client_for(guardians2[0])
    seen = parent.get(f"/api/v1/notices/{notice_id}/").json()
    assert (seen["recalled"], seen["title"], seen["body"], seen["attachment_ids"], seen["attachments"]) == (
        True,
        "该通知已撤回",
        "",
        [],
        [],
    )
    listed = parent.get("/api/v1/notices/").json()["results"][0]
    assert (listed["title"], listed["body"]) == ("该通知已撤回", "")
    assert parent.get("/api/v1/notices/unread-count/").json() == {"unread": 0, "unconfirmed": 0}
    recalled = UserEvent.objects.filter(type="notice.recalled")
    assert sorted(e.user_id for e in recalled) == sorted(g.pk for g in guardians2)
    assert recalled[0].data == {"notice_id": notice_id}
    record = AuditRecord.objects.get(action="notice.recall")
    assert (record.actor_id, record.object_id) == (demo.head2.pk, str(notice_id))


def test_a_recalled_notice_is_not_escalated_read_or_reminded(
    demo, class2, guardians2, post_notice, client_for, time_machine
):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]
    client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/recall/")
    pushes, texts = len(pushed_tokens()), len(texted())

    time_machine.move_to(DAYTIME + timedelta(hours=2))
    run(delivery_tick)
    read = client_for(guardians2[0]).post(f"/api/v1/notices/{notice_id}/confirm/")
    remind = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/reminders/", {}, format="json")

    assert (len(pushed_tokens()), len(texted())) == (pushes, texts)
    assert read.status_code == 409
    assert read.json()["error"]["code"] == "notice_recalled"
    assert remind.status_code == 409
    assert remind.json()["error"]["code"] == "notice_recalled"


def test_recalling_twice_tells_recipients_once(demo, class2, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    first = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/recall/")
    second = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/recall/")

    assert first.status_code == second.status_code == 200
    assert UserEvent.objects.filter(type="notice.recalled").count() == 30


def test_who_may_recall(demo, class2, guardians2, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    for outsider in (demo.head1, guardians2[0]):
        assert client_for(outsider).post(f"/api/v1/notices/{notice_id}/recall/").status_code == 404
    assert not UserEvent.objects.filter(type="notice.recalled").exists()
    # an admin of the school may take a notice down
    assert client_for(demo.admin).post(f"/api/v1/notices/{notice_id}/recall/").status_code == 200


def test_a_scheduled_notice_is_cancelled_not_recalled(demo, class2, post_notice, client_for):
    at = (DAYTIME + timedelta(hours=1)).isoformat()
    notice_id = post_notice(demo.head2, [class2.pk], scheduled_at=at).json()["id"]

    response = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/recall/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "notice_not_published"
