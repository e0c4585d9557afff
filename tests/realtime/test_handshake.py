"""Opening /ws/v1/events/: who may connect, from which page. Refusals accept first and
then close, so a browser can read the code: 4401 credentials, 4403 Origin.

The refusals here run without database access: a bad credential or Origin is turned
away before the gateway touches the database (pytest-django would fail the test)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from backend.realtime.services import realtime_ticket_issue

from .conftest import TEST_EVENT, access_token, bearer


async def test_missing_or_unknown_credentials_close_4401(sockets: Any) -> None:
    for path in [sockets.path, f"{sockets.path}?ticket=made-up", f"{sockets.path}?ticket=a&ticket=b"]:
        ws = await sockets.open(path=path)
        assert await sockets.closed_with(ws) == 4401, path


async def test_bad_authorization_headers_close_4401(sockets: Any) -> None:
    for authorization in [
        b"Bearer not-a-jwt",
        b"Bearer",
        b"Basic dXNlcjpwdw==",
        b"Bearer a.b.c",
        b"\xff\xfe",
    ]:
        ws = await sockets.open(headers=[(b"authorization", authorization)])
        assert await sockets.closed_with(ws) == 4401, authorization


async def test_expired_and_refresh_tokens_close_4401(sockets: Any) -> None:
    expired = await sockets.open(headers=bearer(1, expired=True))
    assert await sockets.closed_with(expired) == 4401
    refresh = await sockets.open(headers=bearer(1, kind=RefreshToken))
    assert await sockets.closed_with(refresh) == 4401
    fresh = bearer(1)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):  # access tokens live 10 min
        late = await sockets.open(headers=fresh)
        assert await sockets.closed_with(late) == 4401


async def test_tokens_in_the_url_are_never_accepted(sockets: Any) -> None:
    token = access_token(1)
    for name in ("token", "access_token", "access", "authorization", "jwt"):
        ws = await sockets.open(path=f"{sockets.path}?{name}={token}")
        assert await sockets.closed_with(ws) == 4401, name


async def test_foreign_origins_close_4403(sockets: Any, settings: Any) -> None:
    settings.REALTIME_ALLOWED_ORIGINS = ["https://app.example.cn"]
    for origin in [
        b"https://evil.example",
        b"null",
        b"https://app.example.cn.evil.example",
        b"http://app.example.cn",  # another scheme is another origin
        b"https://app.example.cn:8443",
        b"https://app.example.cn:99999",
        b"file://",
        b"http://",
        b"\xff",
    ]:
        ws = await sockets.open(headers=[*bearer(1), (b"origin", origin)])
        assert await sockets.closed_with(ws) == 4403, origin
    twice = [(b"origin", b"http://localhost"), (b"origin", b"https://evil.example")]
    ws = await sockets.open(headers=[*bearer(1), *twice])
    assert await sockets.closed_with(ws) == 4403


async def test_unknown_path_is_refused(sockets: Any) -> None:
    from backend.asgi import application

    ws = WebsocketCommunicator(application, "/ws/v1/other/", headers=bearer(1))
    connected, _ = await ws.connect()
    assert not connected


@pytest.mark.django_db(transaction=True)
async def test_header_token_from_an_app_or_an_allowed_origin_connects(
    sockets: Any, user: Any, settings: Any
) -> None:
    settings.REALTIME_ALLOWED_ORIGINS = ["https://app.example.cn"]
    await sockets.for_user(user)  # native apps send no Origin
    for origin in [b"https://app.example.cn", b"https://app.example.cn:443", b"http://localhost:8000"]:
        await sockets.for_user(user, headers=[(b"origin", origin)])  # ALLOWED_HOSTS has localhost


@pytest.mark.django_db(transaction=True)
async def test_inactive_users_close_4401_with_a_token_or_a_ticket(
    sockets: Any, user: Any, make_user: Any
) -> None:
    inactive = await database_sync_to_async(make_user)(is_active=False)
    ws = await sockets.open(headers=bearer(inactive))
    assert await sockets.closed_with(ws) == 4401
    ticket, _ = await database_sync_to_async(realtime_ticket_issue)(user=user)
    await database_sync_to_async(type(user).objects.filter(pk=user.pk).update)(is_active=False)
    ws = await sockets.open(path=f"{sockets.path}?ticket={ticket}")
    assert await sockets.closed_with(ws) == 4401
    deleted = await sockets.open(headers=bearer(10**9))  # a token of a user that no longer exists
    assert await sockets.closed_with(deleted) == 4401


@pytest.mark.django_db(transaction=True)
async def test_ticket_works_once_for_its_user_and_expires(sockets: Any, user: Any, asend: Any) -> None:
    ticket, ttl = await database_sync_to_async(realtime_ticket_issue)(user=user)
    assert ttl == 30
    # A refused Origin does not use the ticket up.
    foreign = await sockets.open(
        path=f"{sockets.path}?ticket={ticket}", headers=[(b"origin", b"https://evil.example")]
    )
    assert await sockets.closed_with(foreign) == 4403
    ws = await sockets.open(
        path=f"{sockets.path}?ticket={ticket}", headers=[(b"origin", b"http://localhost")]
    )
    await asend([user], 1)
    [frame] = await sockets.frames(ws, 1)
    assert (frame["type"], frame["seq"], frame["data"]) == (TEST_EVENT, 1, {"n": 1})

    again = await sockets.open(path=f"{sockets.path}?ticket={ticket}")
    assert await sockets.closed_with(again) == 4401

    late_ticket, _ = await database_sync_to_async(realtime_ticket_issue)(user=user)
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        late = await sockets.open(path=f"{sockets.path}?ticket={late_ticket}")
        assert await sockets.closed_with(late) == 4401


class _DenylistCheckingAccessToken(AccessToken):
    """An access token class that reads the database while it is validated (as a
    denylist would): the gateway must then validate it off the event loop."""

    def verify(self) -> None:
        super().verify()
        from backend.accounts.models import User

        if not User.objects.filter(pk=self.payload.get("user_id")).exists():
            raise TokenError("denied")


@pytest.mark.django_db(transaction=True)
async def test_a_token_class_that_reads_the_database_still_works(
    sockets: Any, user: Any, settings: Any
) -> None:
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "AUTH_TOKEN_CLASSES": [f"{__name__}._DenylistCheckingAccessToken"],
    }
    ws = await sockets.for_user(user)
    await ws.send_json_to({"type": "resume", "after_seq": 0})
    assert await ws.receive_json_from() == {"type": "resumed", "seq": 0}
    denied = await sockets.open(headers=bearer(10**9))
    assert await sockets.closed_with(denied) == 4401
