"""The whole flow as the phones see it: assign → the guardian's socket hears it; the
child submits → the teacher's socket hears it; feedback → the guardian's socket hears it,
and the guardian reads it over REST."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from .conftest import payload

pytestmark = pytest.mark.django_db(transaction=True)


def client(user: Any) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return api


async def socket(user: Any) -> WebsocketCommunicator:
    from backend.asgi import application

    ws = WebsocketCommunicator(
        application,
        "/ws/v1/events/",
        headers=[(b"authorization", f"Bearer {AccessToken.for_user(user)}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from() == {"type": "pong"}
    return ws


async def frame(ws: WebsocketCommunicator) -> dict[str, Any]:
    return dict(json.loads(await ws.receive_from(timeout=2)))


@database_sync_to_async
def call(user: Any, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    response = getattr(client(user), method)(url, body, format="json")
    return response.status_code, response.json()


async def test_assign_submit_feedback_over_rest_and_websocket(world: Any) -> None:
    teacher, student, mother = world.teachers[0], world.students[0][0], world.guardians[0][0]
    teacher_ws, mother_ws = await socket(teacher), await socket(mother)
    try:
        status, hw = await call(teacher, "post", "/api/v1/assignments/", payload([world.classes[0].pk]))
        assert status == 201
        assigned = await frame(mother_ws)
        assert (assigned["type"], assigned["seq"]) == ("homework.assigned", 1)
        assert assigned["data"]["assignment_id"] == hw["id"]

        status, work = await call(
            student,
            "post",
            f"/api/v1/assignments/{hw['id']}/submissions/",
            {"student_id": student.pk, "text": "举头望明月", "client_id": "flow-1"},
        )
        assert status == 201
        submitted = await frame(teacher_ws)
        assert submitted["type"] == "homework.submitted"
        assert submitted["data"]["submission_id"] == work["id"]
        assert submitted["data"]["student"] == {"id": student.pk, "name": student.name}

        status, _ = await call(
            teacher, "post", f"/api/v1/submissions/{work['id']}/feedback/", {"score": 98, "comment": "很好"}
        )
        assert status == 201
        feedback = await frame(mother_ws)
        assert (feedback["type"], feedback["seq"]) == ("homework.feedback", 2)
        assert feedback["data"] == {
            "assignment_id": hw["id"],
            "submission_id": work["id"],
            "student_id": student.pk,
            "version": 1,
            "request_resubmit": False,
        }

        status, seen = await call(mother, "get", f"/api/v1/submissions/{work['id']}/")
        assert status == 200
        assert (seen["feedback"]["score"], seen["feedback"]["comment"]) == (98.0, "很好")
        # The teacher's own socket carried only the submission.
        assert await teacher_ws.receive_nothing(timeout=0.2)
    finally:
        await teacher_ws.disconnect()
        await mother_ws.disconnect()
