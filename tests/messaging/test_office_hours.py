"""Office hours: outside them a guardian's direct message gets one automatic reply per
chat per off-hours window, and the teacher's push waits until the hours start."""

from __future__ import annotations

from datetime import datetime

from backend.delivery.rules import SHANGHAI
from backend.messaging.models import Member, Message
from backend.messaging.services import office_hours_release_due

from .conftest import events, pushed, run, with_app

EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=SHANGHAI)  # Monday, after 18:00, before quiet hours
NEXT_MORNING = datetime(2026, 11, 24, 7, 31, tzinfo=SHANGHAI)
AUTO_REPLY = "老师目前不在办公时间（周一至周五 07:30–18:00），会在工作时间回复您。如有紧急情况请联系学校。"


def test_office_hours_default_and_update(world, client_for):
    client = client_for(world.teachers[0])

    assert client.get("/api/v1/me/office-hours/").json() == {
        "weekdays": [1, 2, 3, 4, 5],
        "start": "07:30",
        "end": "18:00",
        "label": "周一至周五 07:30–18:00",
    }
    put = client.put(
        "/api/v1/me/office-hours/", {"weekdays": [1, 3, 5], "start": "08:00", "end": "17:00"}, format="json"
    )
    assert put.json()["label"] == "周一、周三、周五 08:00–17:00"
    bad = client.put(
        "/api/v1/me/office-hours/", {"weekdays": [1], "start": "18:00", "end": "08:00"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_hours"
    guardian = client_for(world.guardians[0][0]).get("/api/v1/me/office-hours/")
    assert guardian.status_code == 403
    assert guardian.json()["error"]["code"] == "not_teacher"


def test_evening_messages_get_one_auto_reply_and_the_teacher_is_pushed_in_the_morning(
    world, open_direct, send, client_for, time_machine
):
    teacher, guardian = world.teachers[0], world.guardians[0][0]
    teacher_token = with_app(teacher)
    with_app(guardian)
    conv = open_direct(teacher, guardian)
    time_machine.move_to(EVENING, tick=False)

    assert send(guardian, conv["id"], "老师，孩子作业本落在学校了").status_code == 201
    assert send(guardian, conv["id"], "明天能补交吗？").status_code == 201

    rows = client_for(guardian).get(f"/api/v1/conversations/{conv['id']}/messages/").json()["results"]
    assert [(r["system"], r["body"]) for r in rows] == [
        (False, "老师，孩子作业本落在学校了"),
        (True, AUTO_REPLY),
        (False, "明天能补交吗？"),
    ]
    assert rows[1]["sender"] == {"id": None, "display_name": "系统消息"}
    # The teacher's app shows the messages if open, but nothing buzzes tonight.
    assert len(events("message.created")[teacher.pk]) == 3
    assert [m for m in pushed() if m.token == teacher_token] == []
    assert Member.objects.get(conversation_id=conv["id"], user=teacher).push_due_at == datetime(
        2026, 11, 24, 7, 30, tzinfo=SHANGHAI
    )

    time_machine.move_to(NEXT_MORNING, tick=False)
    assert run(office_hours_release_due) == 1
    assert run(office_hours_release_due) == 0
    morning = [m for m in pushed() if m.token == teacher_token]
    assert [m.body for m in morning] == ["2 条家长消息待回复"]

    # The next evening is a new window: one new automatic reply.
    time_machine.move_to(datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI), tick=False)
    send(guardian, conv["id"], "谢谢老师")
    assert Message.objects.filter(conversation_id=conv["id"], is_system=True).count() == 2


def test_a_message_the_teacher_read_before_the_morning_is_not_pushed(
    world, open_direct, send, client_for, time_machine
):
    teacher, guardian = world.teachers[0], world.guardians[0][0]
    teacher_token = with_app(teacher)
    conv = open_direct(teacher, guardian)
    time_machine.move_to(EVENING, tick=False)
    last = send(guardian, conv["id"], "老师好").json()
    client_for(teacher).post(
        f"/api/v1/conversations/{conv['id']}/read/", {"up_to": last["id"] + 1}, format="json"
    )

    time_machine.move_to(NEXT_MORNING, tick=False)
    run(office_hours_release_due)

    assert [m for m in pushed() if m.token == teacher_token] == []


def test_daytime_messages_push_the_teacher_at_once(world, open_direct, send):
    teacher, guardian = world.teachers[0], world.guardians[0][0]
    teacher_token = with_app(teacher)
    conv = open_direct(teacher, guardian)

    send(guardian, conv["id"], "老师好")

    assert [m.token for m in pushed()] == [teacher_token]
    assert not Message.objects.filter(is_system=True).exists()
