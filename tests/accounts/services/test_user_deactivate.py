"""user_deactivate: the account stops working everywhere at once, and it is audited."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from backend.accounts.services import user_deactivate
from backend.audit.models import AuditRecord
from backend.realtime.frames import LAYER_DISCONNECT, user_group


def test_deactivation_stops_tokens_logins_and_sockets(
    world, password_login, api, django_capture_on_commit_callbacks
):
    guardian, admin = world.guardians[0][0], world.school_admins[0]
    session = password_login(guardian.phone).json()
    other_session = password_login(guardian.phone, ip="10.0.0.9").json()

    def deactivate() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            user_deactivate(user=guardian, actor=admin)

    async def deactivate_while_listening() -> dict:
        # One event loop for listening and publishing (the Redis layer is bound to it).
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(user_group(guardian.pk), channel)
        await sync_to_async(deactivate)()
        return await asyncio.wait_for(layer.receive(channel), timeout=2)

    message = async_to_sync(deactivate_while_listening)()

    assert message["type"] == LAYER_DISCONNECT
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access']}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 401
    assert me.json()["error"]["code"] == "account_disabled"
    api.credentials()
    for refresh in (session["refresh"], other_session["refresh"]):
        answer = api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")
        assert answer.status_code == 401
    assert password_login(guardian.phone).status_code == 401
    [row] = AuditRecord.objects.filter(action="account.deactivated")
    assert row.actor_id == admin.pk
    assert (row.object_type, row.object_id) == ("accounts.user", str(guardian.pk))
    assert row.detail == {"revoked_refresh_tokens": 2}


def test_deactivation_leaves_other_accounts_alone(world, password_login, api):
    guardian, neighbour = world.guardians[0][0], world.guardians[0][1]
    neighbours_session = password_login(neighbour.phone).json()

    user_deactivate(user=guardian, actor=None)

    answer = api.post(
        "/api/v1/auth/token/refresh/", {"refresh": neighbours_session["refresh"]}, format="json"
    )
    assert answer.status_code == 200
