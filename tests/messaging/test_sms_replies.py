"""SMS: a parent's reply to a notice text lands in the direct chat with the notice's
author (tagged with the child); the teacher's answer goes back by SMS to parents
without the app; a reply to that text lands in the same chat."""

from __future__ import annotations

import pytest
from django.utils import timezone

from backend.messaging.models import Conversation, Message
from backend.sms.replies import InboundReply, route_reply

from .conftest import run, texts, with_app


@pytest.fixture
def funded(world):
    from backend.sms.services import sms_demo_accounts

    sms_demo_accounts(school=world.schools[0])
    return world


def reply(user, content: str, source: str | None) -> InboundReply:
    return InboundReply(
        phone=user.phone,
        content=content,
        received_at=timezone.now(),
        account_id=None,
        source=source,
        user_id=user.pk,
    )


def post_notice(client, class_id: int) -> int:
    body = {
        "title": "春游通知",
        "body": "本周五春游，请准备午餐。",
        "class_ids": [class_id],
        "audience": "guardians",
        "require_confirmation": True,
        "urgent": False,
    }
    response = client.post("/api/v1/notices/", body, format="json")
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def test_reply_becomes_a_chat_message_and_the_answer_goes_back_by_sms(funded, client_for):
    world = funded
    teacher, parent, child = world.teachers[0], world.guardians[0][1], world.students[0][1]
    notice_id = post_notice(client_for(teacher), world.classes[0].pk)

    routed = run(route_reply, reply(parent, "请问几点集合？", f"notice:{notice_id}:notice.created:0"))

    assert routed == "*"
    conv = Conversation.objects.get(kind="direct")
    assert conv.student_id == child.pk
    assert list(Message.objects.filter(conversation=conv).values_list("sender_id", "body")) == [
        (parent.pk, "请问几点集合？")
    ]
    # A confirmation is still the notice's: no chat message for it.
    assert run(route_reply, reply(parent, "1", f"notice:{notice_id}:notice.created:0")) == "notice"
    assert Message.objects.count() == 1

    before = len(texts())
    long_answer = "早上八点在学校门口集合，请带好水杯、帽子和午餐，穿运动鞋，不要带零食和贵重物品。"
    assert (
        client_for(teacher)
        .post(
            f"/api/v1/conversations/{conv.pk}/messages/",
            {"body": long_answer, "client_id": "t1"},
            format="json",
        )
        .status_code
        == 201
    )

    sent = texts()[before:]
    assert [m.phone for m in sent] == [parent.phone]
    assert sent[0].template_code or sent[0].text
    assert "教师01老师回复：" in sent[0].text
    assert sent[0].text.endswith("…(请登录家校通查看全文)")

    # The parent answers that text: it lands in the same chat.
    answer = Message.objects.filter(conversation=conv, sender=teacher).get()
    assert run(route_reply, reply(parent, "好的谢谢", f"message:{answer.pk}:message.created:0")) == "*"
    assert Message.objects.filter(conversation=conv, sender=parent).count() == 2
    assert Conversation.objects.count() == 1


def test_parents_with_the_app_get_no_sms_for_answers(funded, open_direct, send):
    world = funded
    teacher, parent = world.teachers[0], world.guardians[0][0]
    with_app(parent)
    conv = open_direct(teacher, parent)
    before = len(texts())

    assert send(teacher, conv["id"], "作业已经收到").status_code == 201

    assert texts()[before:] == []


def test_discussion_messages_are_never_texted(funded, open_discussion, send):
    world = funded
    conv = open_discussion(world.teachers[0], world.classes[0])
    before = len(texts())

    send(world.teachers[0], conv["id"], "明天春游")

    assert texts()[before:] == []


def test_replies_to_unknown_sources_or_strangers_are_left_alone(funded, client_for):
    world = funded
    notice_id = post_notice(client_for(world.teachers[0]), world.classes[0].pk)
    stranger = world.guardians[2][0]

    assert run(route_reply, reply(stranger, "你好", f"notice:{notice_id}:notice.created:0")) == ""
    assert run(route_reply, reply(world.guardians[0][0], "你好", None)) == ""
    assert run(route_reply, reply(world.guardians[0][0], "你好", "sms_job:3:x:0")) == ""
    assert Message.objects.count() == 0
