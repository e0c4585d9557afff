"""Fixtures for the realtime gateway: people, tokens, a registered test event type and
a way to open sockets against the real ASGI application."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken, Token

from backend.realtime.registry import register_event

WS_PATH = "/ws/v1/events/"
WAIT = 5.0
TEST_EVENT = "test.happened"
TEST_SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "note": {"type": "string"}},
    "required": ["n"],
    "additionalProperties": False,
}

_phones = count(13700000000)


@pytest.fixture(autouse=True)
def test_event() -> str:
    """A registered event type for these tests (registering twice is a no-op)."""
    register_event(TEST_EVENT, schema=TEST_SCHEMA, description="测试事件", audience="测试用户")
    register_event(
        "test.loose", schema={"type": "object"}, description="任意内容的测试事件", audience="测试用户"
    )
    return TEST_EVENT


@pytest.fixture(autouse=True)
def _channel_layer() -> Any:
    """A fresh channel layer per test (the settings already turn redis-py ≥ 8's socket
    timeout off, as channels_redis needs: see test_redis.py::test_idle_socket_*)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from backend.accounts.models import User

    def make(**extra: Any) -> Any:
        return User.objects.create_user(str(next(_phones)), None, name=extra.pop("name", "测试家长"), **extra)

    return make


@pytest.fixture
def make_users(db: Any) -> Callable[[int], list[Any]]:
    from backend.accounts.models import User

    def make(n: int) -> list[Any]:
        return User.objects.bulk_create([User(phone=str(next(_phones)), name=f"家长{i}") for i in range(n)])

    return make


@pytest.fixture
def user(make_user: Callable[..., Any]) -> Any:
    return make_user(name="王小明妈妈")


def access_token(user: Any, *, expired: bool = False, kind: type[Token] = AccessToken) -> str:
    """A signed token for a user, or for a bare id (no database needed)."""
    if isinstance(user, int):
        token = kind()
        token[jwt_settings.USER_ID_CLAIM] = user
    else:
        token = kind.for_user(user)
    if expired:
        token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def bearer(user: Any, *, expired: bool = False, kind: type[Token] = AccessToken) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {access_token(user, expired=expired, kind=kind)}".encode())]


class Communicator(WebsocketCommunicator):
    """Waits up to 5 s for expected output (a loaded CI machine is slow); checks that
    nothing arrives stay short (receive_nothing)."""

    # The parameter names are those of the overridden methods.
    async def connect(self, timeout: float = WAIT) -> Any:  # noqa: ASYNC109
        return await super().connect(timeout)

    async def receive_output(self, timeout: float = WAIT) -> Any:  # noqa: ASYNC109
        return await super().receive_output(timeout)

    async def receive_from(self, timeout: float = WAIT) -> Any:  # noqa: ASYNC109
        return await super().receive_from(timeout)

    async def receive_json_from(self, timeout: float = WAIT) -> Any:  # noqa: ASYNC109
        return await super().receive_json_from(timeout)


class Sockets:
    """Opens sockets against backend.asgi.application and reads what arrives."""

    path = WS_PATH
    bearer = staticmethod(bearer)

    def __init__(self) -> None:
        self.opened: list[WebsocketCommunicator] = []

    async def open(self, *, headers: list[tuple[bytes, bytes]] | None = None, path: str = WS_PATH) -> Any:
        from backend.asgi import application

        communicator = Communicator(application, path, headers=headers or [])
        self.opened.append(communicator)
        connected, _ = await communicator.connect()
        assert connected  # the gateway accepts first, then closes with a code
        return communicator

    async def for_user(self, user: Any, *, headers: list[tuple[bytes, bytes]] | None = None) -> Any:
        """An authenticated, running socket (a ping was answered)."""
        communicator = await self.open(headers=[*bearer(user), *(headers or [])])
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from() == {"type": "pong"}
        return communicator

    @staticmethod
    async def closed_with(communicator: Any) -> int:
        """The close code the server sent (fails on any other output)."""
        output = await communicator.receive_output()
        assert output["type"] == "websocket.close", output
        return int(output["code"])

    @staticmethod
    async def frames(communicator: Any, n: int) -> list[dict[str, Any]]:
        return [json.loads(await communicator.receive_from()) for _ in range(n)]

    async def close_all(self) -> None:
        for communicator in self.opened:
            await communicator.disconnect()


@pytest.fixture
async def sockets() -> Any:
    helper = Sockets()
    yield helper
    await helper.close_all()  # ends every consumer (and its presence heartbeat)


def send_committed(users: list[Any], n: int, **data: Any) -> None:
    """Send the test event to `users` in a transaction of its own (it commits)."""
    from backend.realtime.services import send_event_on_commit

    with transaction.atomic():
        send_event_on_commit(users, TEST_EVENT, {"n": n, **data})


@pytest.fixture
def asend() -> Callable[..., Any]:
    """`await asend(users, n)`: send_committed from async tests (ORM in a thread)."""
    return database_sync_to_async(send_committed)
