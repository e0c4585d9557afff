"""Realtime: members online get the message on their socket, offline app users get a
push, and a member who reconnects resumes without missing anything."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from .conftest import pushed, with_app

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5.0


@pytest.fixture(autouse=True)
def _channel_layer() -> Any:
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def connect(user: Any) -> WebsocketCommunicator:
    from backend.asgi import application

    headers = [(b"authorization", f"Bearer {AccessToken.for_user(user)}".encode())]
    socket = WebsocketCommunicator(application, "/ws/v1/events/", headers=headers)
    connected, _ = await socket.connect(WAIT)
    assert connected
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(WAIT) == {"type": "pong"}
    return socket


def post(user: Any, path: str, body: dict[str, Any]) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client.post(path, body, format="json")


def setup(world: Any) -> dict[str, Any]:
    teacher = world.teachers[0]
    online, offline, no_app = world.guardians[0]
    tokens = {u.pk: with_app(u) for u in (teacher, online, offline)}
    conv = post(
        teacher,
        "/api/v1/conversations/",
        {"kind": "discussion", "class_id": world.classes[0].pk, "title": "春游"},
    )
    assert conv.status_code == 201
    return {"conv": conv.json()["id"], "tokens": tokens, "no_app": no_app}


async def test_online_members_get_frames_offline_ones_get_push_and_resume_misses_nothing(world):
    teacher = world.teachers[0]
    online, offline, _ = world.guardians[0]
    state = await database_sync_to_async(setup)(world)
    conv = state["conv"]
    online_socket = await connect(online)
    teacher_socket = await connect(teacher)

    sent = await database_sync_to_async(post)(
        teacher, f"/api/v1/conversations/{conv}/messages/", {"body": "明天八点集合", "client_id": "m1"}
    )
    assert sent.status_code == 201

    frame = await online_socket.receive_json_from(WAIT)
    assert frame["type"] == "message.created"
    assert frame["data"]["conversation_id"] == conv
    assert frame["data"]["message"]["body"] == "明天八点集合"
    assert frame["data"]["message"]["sender"] == {"id": teacher.pk, "display_name": "教师01老师"}
    # The sender's own devices are told too (another phone of theirs stays in sync).
    own = await teacher_socket.receive_json_from(WAIT)
    assert own["data"]["message"]["id"] == sent.json()["id"]

    # Presence decides push: only the offline app user's phone buzzes.
    assert sorted(m.token for m in pushed()) == [state["tokens"][offline.pk]]

    # The offline member comes back and resumes from the start: the message is there.
    late = await connect(offline)
    await late.send_json_to({"type": "resume", "after_seq": 0})
    replayed = json.loads(await late.receive_from(WAIT))
    resumed = await late.receive_json_from(WAIT)
    assert replayed["type"] == "message.created"
    assert replayed["data"]["message"]["id"] == sent.json()["id"]
    assert resumed["type"] == "resumed"

    # Reading on one device tells the reader's other devices.
    read = await database_sync_to_async(post)(
        online, f"/api/v1/conversations/{conv}/read/", {"up_to": sent.json()["id"]}
    )
    assert read.json() == {"up_to": sent.json()["id"], "unread": 0}
    marker = await online_socket.receive_json_from(WAIT)
    assert marker["type"] == "conversation.read"
    assert marker["data"] == {"conversation_id": conv, "up_to": sent.json()["id"], "unread": 0}
    assert await teacher_socket.receive_nothing(0.2)

    for socket in (online_socket, teacher_socket, late):
        await socket.disconnect()
