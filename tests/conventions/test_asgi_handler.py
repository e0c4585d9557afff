"""Django under ASGI with one thread hand-off per request (conventions.asgi_handler):
requests through backend.asgi answer as before, and no middleware hops between the
event loop and the request's thread on its own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import HttpCommunicator
from django.utils import deprecation
from rest_framework_simplejwt.tokens import RefreshToken

from backend.asgi import application, django_asgi_app
from backend.conventions.asgi_handler import SyncChainASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def guardian(world: Any) -> tuple[Any, str, int]:
    user = world.guardians[0][0]
    return user, str(RefreshToken.for_user(user).access_token), world.students[0][0].pk


def _get(path: str, token: str | None = None) -> HttpCommunicator:
    headers = [(b"host", b"testserver")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return HttpCommunicator(application, "GET", path, headers=headers)


async def test_a_request_through_the_asgi_application_is_answered_as_before(guardian: Any) -> None:
    user, token, child_id = guardian

    response = await _get("/api/v1/me/", token).get_response(timeout=10)
    refused = await _get("/api/v1/me/").get_response(timeout=10)

    assert response["status"] == 200
    body = json.loads(response["body"])
    assert body["id"] == user.pk
    assert [c["id"] for c in body["children"]] == [child_id]
    assert refused["status"] == 401
    assert json.loads(refused["body"]) == {"error": {"code": "not_authenticated", "message": "请先登录"}}
    headers = {name.lower(): value for name, value in response["headers"]}
    # The middlewares ran: clickjacking, security, locale.
    assert headers[b"x-frame-options"] == b"DENY"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"content-language"] == b"zh-hans"


async def test_no_middleware_hands_off_on_its_own(guardian: Any, monkeypatch: Any) -> None:
    hops: list[Any] = []
    real = deprecation.sync_to_async

    def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return real(func, *args, **kwargs)

    monkeypatch.setattr(deprecation, "sync_to_async", counting)
    response = await _get("/api/v1/me/", guardian[1]).get_response(timeout=10)

    assert response["status"] == 200
    # The stock handler runs every middleware's process_request/process_response
    # through sync_to_async (about fifteen for this stack); here the chain is sync.
    assert hops == []
    assert isinstance(django_asgi_app, SyncChainASGIHandler)
