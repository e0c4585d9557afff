"""Opening discussions and direct chats, scope, the list with unread counts, and the
moderators' close / pin / mute."""

from __future__ import annotations

from typing import Any

from backend.messaging.models import Conversation, Member, Message

from .conftest import events


def test_teacher_opens_a_discussion_for_the_class_guardians(world, open_discussion, client_for):
    conv = open_discussion(world.teachers[0], world.classes[0])

    assert conv["kind"] == "discussion"
    assert conv["title"] == "春游安排"
    assert conv["school_class"] == {"id": world.classes[0].pk, "name": "三年级(1)班"}
    members = dict(Member.objects.filter(conversation_id=conv["id"]).values_list("user_id", "display_name"))
    expected = {world.teachers[0].pk, *(g.pk for g in world.guardians[0])}
    assert set(members) == expected
    assert members[world.guardians[0][0].pk] == "学生010妈妈"
    assert members[world.teachers[0].pk] == "教师01老师"


def test_students_join_only_when_allowed(world, open_discussion):
    closed = open_discussion(world.teachers[0], world.classes[0])
    open_ = open_discussion(world.teachers[0], world.classes[0], allow_students=True)

    student = world.students[0][0]
    assert not Member.objects.filter(conversation_id=closed["id"], user=student).exists()
    assert Member.objects.get(conversation_id=open_["id"], user=student).role == "student"


def test_a_teacher_cannot_open_a_discussion_in_a_class_they_do_not_teach(world, client_for):
    for teacher, school_class in (
        (world.teachers[0], world.classes[1]),
        (world.teachers[0], world.classes[2]),
    ):
        response = client_for(teacher).post(
            "/api/v1/conversations/",
            {"kind": "discussion", "class_id": school_class.pk, "title": "x"},
            format="json",
        )
        assert response.status_code == 404
    guardian = world.guardians[0][0]
    response = client_for(guardian).post(
        "/api/v1/conversations/",
        {"kind": "discussion", "class_id": world.classes[0].pk, "title": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert Conversation.objects.count() == 0


def test_direct_chat_is_tagged_with_the_child_and_reopening_returns_it(world, client_for):
    teacher, guardian, child = world.teachers[0], world.guardians[0][1], world.students[0][1]
    body = {"kind": "direct", "user_id": guardian.pk, "student_id": child.pk}

    first = client_for(teacher).post("/api/v1/conversations/", body, format="json")
    again = client_for(guardian).post(
        "/api/v1/conversations/",
        {"kind": "direct", "user_id": teacher.pk, "student_id": child.pk},
        format="json",
    )

    assert first.status_code == 201
    assert first.json()["student"] == {"id": child.pk, "name": child.name}
    assert first.json()["name"] == "学生011妈妈"
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["name"] == "教师01老师"
    assert Conversation.objects.count() == 1


def test_direct_chat_needs_the_child_in_the_teachers_class(world, client_for):
    teacher = world.teachers[0]
    other_class_guardian = world.guardians[1][0]
    other_school_guardian = world.guardians[2][0]
    for guardian in (other_class_guardian, other_school_guardian):
        response = client_for(teacher).post(
            "/api/v1/conversations/", {"kind": "direct", "user_id": guardian.pk}, format="json"
        )
        assert response.status_code == 404
    # A child that is not the guardian's.
    response = client_for(teacher).post(
        "/api/v1/conversations/",
        {"kind": "direct", "user_id": world.guardians[0][0].pk, "student_id": world.students[0][1].pk},
        format="json",
    )
    assert response.status_code == 404
    assert Conversation.objects.count() == 0


def test_guardians_chat_with_each_other_only_when_the_school_allows(world, client_for):
    a, b = world.guardians[0][0], world.guardians[0][1]
    body = {"kind": "direct", "user_id": b.pk}

    refused = client_for(a).post("/api/v1/conversations/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "guardian_chats_off"
    assert Conversation.objects.count() == 0

    world.schools[0].allow_guardian_chats = True
    world.schools[0].save()
    allowed = client_for(a).post("/api/v1/conversations/", body, format="json")
    assert allowed.status_code == 201
    assert allowed.json()["name"] == "学生011妈妈"
    # A guardian of another class is not visible at all.
    stranger = client_for(a).post(
        "/api/v1/conversations/", {"kind": "direct", "user_id": world.guardians[1][0].pk}, format="json"
    )
    assert stranger.status_code == 404


def test_list_shows_only_my_conversations_with_unread_counts(world, open_discussion, send, client_for):
    conv = open_discussion(world.teachers[0], world.classes[0])
    foreign = open_discussion(world.teachers[2], world.classes[2])
    guardian = world.guardians[0][0]
    for _ in range(3):
        assert send(world.teachers[0], conv["id"], "明天春游，请带水杯").status_code == 201
    assert send(guardian, conv["id"], "收到").status_code == 201

    response = client_for(guardian).get("/api/v1/conversations/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [conv["id"]]
    assert foreign["id"] not in [r["id"] for r in rows]
    # Sending marks one's own earlier messages read.
    assert rows[0]["unread"] == 0
    other = client_for(world.guardians[0][1]).get("/api/v1/conversations/").json()["results"]
    assert other[0]["unread"] == 4


def test_list_queries_are_constant(
    world, open_discussion, open_direct, client_for, django_assert_num_queries
):
    teacher = world.teachers[0]
    open_discussion(teacher, world.classes[0])
    client = client_for(teacher)
    client.get("/api/v1/conversations/")  # warm caches (token user, content types)
    # the token's user, topics of my classes I am not in yet (none), the page with unread counts
    with django_assert_num_queries(3):
        client.get("/api/v1/conversations/")
    for guardian in world.guardians[0]:
        open_direct(teacher, guardian)
    open_discussion(teacher, world.classes[0], title="第二个话题")
    with django_assert_num_queries(4):  # + the direct chats' counterpart names
        response = client.get("/api/v1/conversations/")
    assert len(response.json()["results"]) == 5


def test_read_marker_moves_forward_and_syncs_my_devices(world, open_discussion, send, client_for):
    conv = open_discussion(world.teachers[0], world.classes[0])
    ids = [send(world.teachers[0], conv["id"], f"第{i}条").json()["id"] for i in range(3)]
    guardian = world.guardians[0][0]
    client = client_for(guardian)

    response = client.post(f"/api/v1/conversations/{conv['id']}/read/", {"up_to": ids[1]}, format="json")
    back = client.post(f"/api/v1/conversations/{conv['id']}/read/", {"up_to": ids[0]}, format="json")

    assert response.json() == {"up_to": ids[1], "unread": 1}
    assert back.json() == {"up_to": ids[1], "unread": 1}
    assert events("conversation.read")[guardian.pk][0] == {
        "conversation_id": conv["id"],
        "up_to": ids[1],
        "unread": 1,
    }
    assert world.teachers[0].pk not in events("conversation.read")


def test_teacher_closes_pins_and_mutes(world, open_discussion, send, client_for):
    from backend.audit.models import AuditRecord

    teacher, guardian = world.teachers[0], world.guardians[0][0]
    conv = open_discussion(teacher, world.classes[0])
    msg = send(teacher, conv["id"], "集合时间 8:00").json()
    client = client_for(teacher)

    pinned = client.post(f"/api/v1/conversations/{conv['id']}/pin/", {"message_id": msg["id"]}, format="json")
    muted = client.post(
        f"/api/v1/conversations/{conv['id']}/mutes/", {"user_id": guardian.pk, "minutes": 30}, format="json"
    )
    refused = send(guardian, conv["id"], "为什么")
    closed = client.post(f"/api/v1/conversations/{conv['id']}/close/")
    after_close = send(world.guardians[0][1], conv["id"], "好的")

    assert pinned.json()["pinned_message_id"] == msg["id"]
    assert muted.status_code == 200
    assert muted.json()["muted_until"].startswith("2026-11-23T10:30")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "muted_until"
    assert "10:30" in refused.json()["error"]["message"]
    assert closed.json()["closed"] is True
    assert after_close.status_code == 409
    assert after_close.json()["error"]["code"] == "conversation_closed"
    assert Message.objects.filter(conversation_id=conv["id"]).count() == 1
    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"messaging.conversation_pin", "messaging.member_mute", "messaging.conversation_close"} <= actions


def test_guardians_cannot_moderate(world, open_discussion, client_for):
    conv = open_discussion(world.teachers[0], world.classes[0])
    client = client_for(world.guardians[0][0])

    close = client.post(f"/api/v1/conversations/{conv['id']}/close/")
    mute = client.post(
        f"/api/v1/conversations/{conv['id']}/mutes/",
        {"user_id": world.guardians[0][1].pk, "minutes": 5},
        format="json",
    )

    assert close.status_code == 403
    assert close.json()["error"]["code"] == "not_moderator"
    assert mute.status_code == 403
    assert Conversation.objects.get(pk=conv["id"]).closed_at is None
    assert Member.objects.filter(muted_until__isnull=False).count() == 0


def test_outsiders_get_404_on_every_conversation_endpoint(world, open_discussion, send, client_for):
    conv = open_discussion(world.teachers[0], world.classes[0])
    msg = send(world.teachers[0], conv["id"], "通知").json()
    outsiders: list[Any] = [
        world.guardians[1][0],
        world.teachers[2],
        world.teachers[1],
        world.guardians[2][0],
    ]
    for user in outsiders:
        client = client_for(user)
        base = f"/api/v1/conversations/{conv['id']}"
        assert client.get(f"{base}/").status_code == 404
        assert client.get(f"{base}/messages/").status_code == 404
        assert (
            client.post(f"{base}/messages/", {"body": "x", "client_id": "z"}, format="json").status_code
            == 404
        )
        assert client.post(f"{base}/read/", {"up_to": 1}, format="json").status_code == 404
        assert client.post(f"{base}/close/").status_code == 404
        assert client.post(f"{base}/pin/", {"message_id": None}, format="json").status_code == 404
        assert (
            client.post(f"{base}/mutes/", {"user_id": user.pk, "minutes": 1}, format="json").status_code
            == 404
        )
        assert client.delete(f"/api/v1/messages/{msg['id']}/").status_code == 404
        assert (
            client.post(f"/api/v1/messages/{msg['id']}/reports/", {"reason": "x"}, format="json").status_code
            == 404
        )
        assert client.get("/api/v1/conversations/").json()["results"] == []
    assert Message.objects.count() == 1
    assert Conversation.objects.get(pk=conv["id"]).closed_at is None


def test_people_who_join_the_class_later_join_its_open_topics(world, open_discussion, send, client_for):
    """A pupil arrives mid-term: their guardian sees and can post in existing topics and
    hears about new messages."""
    from backend.accounts.services import user_ensure
    from backend.schools.services import guardianship_link, membership_set

    topic = open_discussion(world.teachers[0], world.classes[0])
    pupil, _ = user_ensure(name="新同学", student_number="S-NEW-001", password="pw-123456")
    membership_set(school_class=world.classes[0], user=pupil, role="student")
    parent, _ = user_ensure(name="新家长", phone="13512345678", password="pw-123456")
    guardianship_link(guardian=parent, student=pupil, relation="母亲")

    # A message in the topic reaches the newcomer.
    send(world.guardians[0][0], topic["id"], "欢迎新同学！")
    from .conftest import events

    assert parent.pk in events("message.created")
    # The topic is in their list, and they can post in it.
    listed = client_for(parent).get("/api/v1/conversations/").json()["results"]
    assert topic["id"] in [row["id"] for row in listed]
    assert send(parent, topic["id"], "谢谢老师和各位家长").status_code == 201
    # Someone outside the class still cannot.
    assert send(world.guardians[2][0], topic["id"], "我也来").status_code == 404
