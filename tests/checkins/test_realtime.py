"""Over a real WebSocket: the teacher sees a check-in arrive, the guardian sees the
teacher's comment; payloads match the registered schemas."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from backend.checkins.schedule import local_date

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user: Any) -> WebsocketCommunicator:
    from backend.asgi import application

    headers = [(b"authorization", f"Bearer {AccessToken.for_user(user)}".encode())]
    socket = WebsocketCommunicator(application, "/ws/v1/events/", headers=headers)
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    return socket


async def test_teacher_sees_checkin_and_guardian_sees_comment(world: Any) -> None:
    from backend.checkins.services import campaign_create, checkin_comment_add, checkin_submit

    teacher, student, guardian = world.teachers[0], world.students[0][0], world.guardians[0][0]
    today = local_date(timezone.now())
    campaign = await database_sync_to_async(campaign_create)(
        teacher=teacher,
        class_ids=[world.classes[0].pk],
        title="每日阅读",
        start_date=today,
        end_date=today + timedelta(days=30),
        content_types=["text"],
    )
    teacher_socket, guardian_socket = await connect(teacher), await connect(guardian)
    try:
        checkin, _ = await database_sync_to_async(checkin_submit)(
            user=guardian, campaign=campaign, student_id=student.pk, text="读书", client_id="ws"
        )
        frame = json.loads(await teacher_socket.receive_from(timeout=3))
        assert frame["type"] == "checkin.created"
        assert frame["data"]["checkin_id"] == checkin.pk
        assert frame["data"]["submitted_by"] == {"id": guardian.pk, "display_name": f"{student.name}妈妈"}
        assert await guardian_socket.receive_nothing(timeout=0.2)

        await database_sync_to_async(checkin_comment_add)(author=teacher, checkin=checkin, text="真棒")
        frame = json.loads(await guardian_socket.receive_from(timeout=3))
        assert frame["type"] == "checkin.commented"
        assert (frame["data"]["checkin_id"], frame["data"]["kind"]) == (checkin.pk, "comment")
        assert await teacher_socket.receive_nothing(timeout=0.2)
    finally:
        await teacher_socket.disconnect()
        await guardian_socket.disconnect()
