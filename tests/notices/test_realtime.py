"""The flow over the WebSocket: a guardian's phone gets notice.created, the teacher's
gets notice.receipt_updated as families read and confirm, and notice.recalled."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command

from backend.realtime.registry import registered_events

from .conftest import demo_people, next_frame, notice_input, socket_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(transactional_db):
    """Sockets read from other threads: the demo data must really be committed."""
    call_command("seed_demo", verbosity=0)
    return demo_people()


async def test_notice_flow_over_websockets(demo, class2, guardians2, client_for):
    parent, teacher = guardians2[0], demo.head2
    parent_ws = await socket_for(parent)
    teacher_ws = await socket_for(teacher)
    try:
        post = database_sync_to_async(
            lambda: client_for(teacher).post("/api/v1/notices/", notice_input([class2.pk]), format="json")
        )
        notice = (await post()).json()

        created = await next_frame(parent_ws)
        assert created["type"] == "notice.created"
        assert created["data"]["notice_id"] == notice["id"]
        assert created["data"]["title"] == "春游通知"
        assert created["data"]["require_confirmation"] is True

        act = database_sync_to_async(
            lambda action: client_for(parent).post(f"/api/v1/notices/{notice['id']}/{action}/")
        )
        await act("read")
        updated = await next_frame(teacher_ws)
        assert updated["type"] == "notice.receipt_updated"
        assert updated["data"] == {"notice_id": notice["id"], "recipients": 30, "read": 1, "confirmed": 0}

        await act("confirm")
        updated = await next_frame(teacher_ws)
        assert updated["data"] == {"notice_id": notice["id"], "recipients": 30, "read": 1, "confirmed": 1}
        assert updated["seq"] > 0

        await act("confirm")  # idempotent: nothing new is announced
        assert await teacher_ws.receive_nothing(timeout=0.2)

        recall = database_sync_to_async(
            lambda: client_for(teacher).post(f"/api/v1/notices/{notice['id']}/recall/")
        )
        await recall()
        recalled = await next_frame(parent_ws)
        assert recalled["type"] == "notice.recalled"
        assert recalled["data"] == {"notice_id": notice["id"]}
        assert recalled["seq"] == created["seq"] + 1
    finally:
        await parent_ws.disconnect()
        await teacher_ws.disconnect()


def test_notice_event_types_are_registered_with_schemas():
    events = registered_events()
    for name in ("notice.created", "notice.recalled", "notice.receipt_updated"):
        assert name in events
        assert events[name].schema["type"] == "object"
    events["notice.receipt_updated"].validate({"notice_id": 1, "recipients": 3, "read": 1, "confirmed": 0})
    with pytest.raises(ValueError, match="schema"):
        events["notice.recalled"].validate({"notice_id": 1, "title": "leak"})
