"""Scheduled notices: nothing before their time, published by the sweeper (or the eta
task) on time, exactly once; cancellable before."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.notices.models import Notice, NoticeReceipt
from backend.notices.tasks import notice_publish_scheduled, notices_publish_due
from backend.realtime.models import UserEvent

from .conftest import DAYTIME, pushed_tokens, run, texted

pytestmark = pytest.mark.django_db

AT = DAYTIME + timedelta(hours=2)


def test_scheduled_notice_goes_out_on_time_once(
    demo, class2, guardians2, post_notice, client_for, time_machine
):
    response = post_notice(demo.head2, [class2.pk], scheduled_at=AT.isoformat())

    assert response.status_code == 201
    notice = response.json()
    assert (notice["status"], notice["published_at"]) == ("scheduled", None)
    assert notice["scheduled_at"] == "2026-11-23T12:00:00+08:00"
    assert NoticeReceipt.objects.count() == 0
    assert pushed_tokens() == []
    # recipients cannot see it yet
    assert client_for(guardians2[0]).get(f"/api/v1/notices/{notice['id']}/").status_code == 404
    assert client_for(guardians2[0]).get("/api/v1/notices/").json()["results"] == []
    # the author sees it in the sent box
    sent = client_for(demo.head2).get("/api/v1/notices/?box=sent").json()["results"]
    assert [(n["id"], n["status"]) for n in sent] == [(notice["id"], "scheduled")]

    time_machine.move_to(AT - timedelta(seconds=30))
    assert run(notices_publish_due) == 0
    assert run(notice_publish_scheduled, notice["id"]) is False  # an early eta does nothing
    assert NoticeReceipt.objects.count() == 0

    time_machine.move_to(AT + timedelta(seconds=20))
    assert run(notices_publish_due) == 1
    assert run(notices_publish_due) == 0
    assert run(notice_publish_scheduled, notice["id"]) is False  # a late eta after the sweeper: nothing

    published = Notice.objects.get()
    assert published.status == "published"
    assert published.recipients_count == 30
    assert NoticeReceipt.objects.count() == 30
    assert UserEvent.objects.filter(type="notice.created").count() == 30
    assert len(pushed_tokens()) == 20
    assert len(texted()) == 10
    inbox = client_for(guardians2[0]).get("/api/v1/notices/").json()["results"]
    assert [n["id"] for n in inbox] == [notice["id"]]


def test_the_eta_task_publishes_a_due_notice(demo, class2, post_notice, time_machine):
    notice_id = post_notice(demo.head2, [class2.pk], scheduled_at=AT.isoformat()).json()["id"]

    time_machine.move_to(AT)
    assert run(notice_publish_scheduled, notice_id) is True

    assert Notice.objects.get().status == "published"
    assert NoticeReceipt.objects.count() == 30


def test_cancelled_before_its_time_it_never_goes_out(demo, class2, post_notice, client_for, time_machine):
    notice_id = post_notice(demo.head2, [class2.pk], scheduled_at=AT.isoformat()).json()["id"]

    cancelled = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/cancel/")
    again = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/cancel/")
    time_machine.move_to(AT + timedelta(minutes=5))
    run(notices_publish_due)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "notice_not_scheduled"
    assert NoticeReceipt.objects.count() == 0
    assert pushed_tokens() == []
    assert texted() == []


def test_only_the_author_or_an_admin_may_cancel(demo, class2, guardians2, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk], scheduled_at=AT.isoformat()).json()["id"]

    for outsider in (demo.head1, guardians2[0]):
        response = client_for(outsider).post(f"/api/v1/notices/{notice_id}/cancel/")
        assert response.status_code == 404
    assert Notice.objects.get().status == "scheduled"
    assert client_for(demo.admin).post(f"/api/v1/notices/{notice_id}/cancel/").status_code == 200


def test_a_published_notice_cannot_be_cancelled(demo, class2, post_notice, client_for):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]

    response = client_for(demo.head2).post(f"/api/v1/notices/{notice_id}/cancel/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "notice_not_scheduled"
