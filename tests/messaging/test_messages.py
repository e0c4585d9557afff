"""Sending (idempotent by client_id), bad input that stores nothing, history paging,
deleting, attachments and reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.messaging.models import Message, Report

from .conftest import events

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"\x00" * 64


@pytest.fixture
def conv(world, open_discussion):
    return open_discussion(world.teachers[0], world.classes[0])


def test_send_answers_the_row_and_tells_the_other_members(world, conv, send):
    guardian = world.guardians[0][0]
    response = send(guardian, conv["id"], "老师，孩子明天请假一天")

    assert response.status_code == 201
    row = response.json()
    assert row["sender"] == {"id": guardian.pk, "display_name": "学生010妈妈"}
    assert row["body"] == "老师，孩子明天请假一天"
    assert row["deleted"] is False
    assert row["attachments"] == []
    assert row["reply_to"] is None
    log = events("message.created")
    assert set(log) == {world.teachers[0].pk, *(g.pk for g in world.guardians[0])}
    assert log[world.teachers[0].pk][0]["message"]["id"] == row["id"]
    # No phone numbers anywhere in what others receive.
    assert guardian.phone not in str(log)


def test_same_client_id_returns_the_first_message_and_other_content_is_refused(world, conv, send):
    guardian = world.guardians[0][0]
    first = send(guardian, conv["id"], "收到", client_id="abc")
    again = send(guardian, conv["id"], "收到", client_id="abc")
    other = send(guardian, conv["id"], "不一样", client_id="abc")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "client_id_reused"
    assert Message.objects.count() == 1
    assert len(events("message.created")[world.teachers[0].pk]) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [("", 400, "empty_body"), ("   ", 400, "empty_body"), ("字" * 2001, 400, "invalid")],
)
def test_bad_bodies_store_and_send_nothing(world, conv, send, body, status, code):
    response = send(world.guardians[0][0], conv["id"], body)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert Message.objects.count() == 0
    assert events("message.created") == {}


def test_history_pages_backwards_and_catches_up_forwards(
    world, conv, send, client_for, django_assert_num_queries
):
    from backend.messaging.api import messages as api_messages

    teacher = world.teachers[0]
    ids = [send(teacher, conv["id"], f"第{i}条").json()["id"] for i in range(7)]
    client = client_for(world.guardians[0][0])
    api_messages.PAGE = 3
    try:
        client.get(f"/api/v1/conversations/{conv['id']}/messages/")
        with django_assert_num_queries(3):  # token user, membership, page
            latest = client.get(f"/api/v1/conversations/{conv['id']}/messages/").json()
        older = client.get(latest["next"]).json()
        newer = client.get(f"/api/v1/conversations/{conv['id']}/messages/?after={ids[1]}").json()
    finally:
        api_messages.PAGE = 50

    assert [r["id"] for r in latest["results"]] == ids[4:]
    assert [r["id"] for r in older["results"]] == ids[1:4]
    assert [r["id"] for r in newer["results"]] == ids[2:5]
    assert "after=" in newer["next"]
    bad = client.get(f"/api/v1/conversations/{conv['id']}/messages/?before=abc")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_before"


def test_sender_deletes_within_two_minutes_only(world, conv, send, client_for, time_machine):
    from django.utils import timezone

    guardian = world.guardians[0][0]
    early = send(guardian, conv["id"], "发错了").json()
    late = send(guardian, conv["id"], "这条留着").json()
    client = client_for(guardian)

    assert client.delete(f"/api/v1/messages/{early['id']}/").status_code == 204
    time_machine.move_to(timezone.now() + timedelta(minutes=3), tick=False)
    refused = client.delete(f"/api/v1/messages/{late['id']}/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "cannot_delete"
    # Another guardian cannot delete it either; the teacher (moderator) can.
    assert client_for(world.guardians[0][1]).delete(f"/api/v1/messages/{late['id']}/").status_code == 403
    assert client_for(world.teachers[0]).delete(f"/api/v1/messages/{late['id']}/").status_code == 204

    rows = (
        client_for(world.guardians[0][1])
        .get(f"/api/v1/conversations/{conv['id']}/messages/")
        .json()["results"]
    )
    assert [(r["deleted"], r["body"]) for r in rows] == [(True, None), (True, None)]
    deleted = events("message.deleted")[world.guardians[0][1].pk]
    assert [d["message_id"] for d in deleted] == [early["id"], late["id"]]


def test_images_attach_and_documents_are_refused(world, conv, send):
    from backend.files.services import file_upload

    guardian = world.guardians[0][0]
    image = file_upload(owner=guardian, upload=SimpleUploadedFile("a.png", PNG, content_type="image/png"))
    pdf = file_upload(owner=guardian, upload=SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"))
    foreign = file_upload(
        owner=world.guardians[0][1], upload=SimpleUploadedFile("b.png", PNG, content_type="image/png")
    )

    ok = send(guardian, conv["id"], "", attachment_ids=[image.pk])
    wrong_kind = send(guardian, conv["id"], "看附件", attachment_ids=[pdf.pk])
    not_mine = send(guardian, conv["id"], "看附件", attachment_ids=[foreign.pk])

    assert ok.status_code == 201
    assert [a["id"] for a in ok.json()["attachments"]] == [image.pk]
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["error"]["code"] == "attachment_type_not_allowed"
    assert not_mine.status_code == 400
    assert not_mine.json()["error"]["code"] == "unknown_attachments"
    assert Message.objects.count() == 1


def test_reply_to_must_be_in_the_same_conversation(world, conv, open_discussion, send):
    other = open_discussion(world.teachers[0], world.classes[0], title="另一个")
    foreign = send(world.teachers[0], other["id"], "别处").json()
    mine = send(world.teachers[0], conv["id"], "这里").json()

    ok = send(world.guardians[0][0], conv["id"], "好的", reply_to=mine["id"])
    bad = send(world.guardians[0][0], conv["id"], "好的", reply_to=foreign["id"])

    assert ok.status_code == 201
    assert ok.json()["reply_to"] == mine["id"]
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "unknown_reply_to"


def test_reports_reach_the_teachers_queue_and_resolve(world, conv, send, client_for):
    from backend.audit.models import AuditRecord

    msg = send(world.guardians[0][1], conv["id"], "这个老师不行").json()
    reporter = client_for(world.guardians[0][0])
    first = reporter.post(f"/api/v1/messages/{msg['id']}/reports/", {"reason": "人身攻击"}, format="json")
    twice = reporter.post(f"/api/v1/messages/{msg['id']}/reports/", {"reason": "人身攻击"}, format="json")

    assert first.status_code == 201
    assert twice.status_code == 200
    assert Report.objects.count() == 1
    # Other schools' and other classes' teachers see nothing; the school admin does.
    assert client_for(world.teachers[2]).get("/api/v1/moderation/reports/").json()["results"] == []
    assert client_for(world.teachers[1]).get("/api/v1/moderation/reports/").json()["results"] == []
    assert client_for(world.guardians[0][0]).get("/api/v1/moderation/reports/").json()["results"] == []
    admin_rows = client_for(world.school_admins[0]).get("/api/v1/moderation/reports/").json()["results"]
    assert [r["message"]["id"] for r in admin_rows] == [msg["id"]]
    report_id = first.json()["id"]
    outsider = client_for(world.teachers[2]).post(
        f"/api/v1/moderation/reports/{report_id}/resolve/", {"action": "delete"}, format="json"
    )
    assert outsider.status_code == 404

    resolved = client_for(world.teachers[0]).post(
        f"/api/v1/moderation/reports/{report_id}/resolve/", {"action": "delete"}, format="json"
    )
    again = client_for(world.teachers[0]).post(
        f"/api/v1/moderation/reports/{report_id}/resolve/", {"action": "keep"}, format="json"
    )

    assert resolved.json()["status"] == "deleted"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "report_resolved"
    assert Message.objects.get(pk=msg["id"]).deleted_at is not None
    actions = list(AuditRecord.objects.values_list("action", flat=True))
    assert {"messaging.message_report", "messaging.report_resolve", "messaging.message_delete"} <= set(
        actions
    )
