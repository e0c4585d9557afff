"""HttpConcurrencyLimit: at most HTTP_CONCURRENCY requests inside the app per process;
the rest wait their turn, and past HTTP_QUEUE_SECONDS get 503 server_busy."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from backend.conventions.concurrency import HttpConcurrencyLimit


class SlowApp:
    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        await self.release.wait()
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def _request(app: Any, kind: str = "http") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": kind}, None, send)
    return sent


async def test_excess_requests_wait_and_all_are_served(settings: Any) -> None:
    settings.HTTP_CONCURRENCY, settings.HTTP_QUEUE_SECONDS = 3, 5
    inner = SlowApp()
    app = HttpConcurrencyLimit(inner)

    requests = [asyncio.create_task(_request(app)) for _ in range(10)]
    await asyncio.sleep(0.05)
    assert inner.inside == 3  # the other 7 wait outside the app
    inner.release.set()
    answers = await asyncio.gather(*requests)

    assert inner.most_inside == 3
    assert [a[0]["status"] for a in answers] == [200] * 10


async def test_a_request_that_waited_too_long_gets_503_with_retry_after(settings: Any) -> None:
    settings.HTTP_CONCURRENCY, settings.HTTP_QUEUE_SECONDS = 1, 0.1
    inner = SlowApp()
    app = HttpConcurrencyLimit(inner)
    first = asyncio.create_task(_request(app))
    await asyncio.sleep(0.01)

    busy = await _request(app)

    assert busy[0]["status"] == 503
    assert (b"retry-after", b"2") in busy[0]["headers"]
    assert json.loads(busy[1]["body"]) == {
        "error": {"code": "server_busy", "message": "服务器繁忙，请稍后重试"}
    }
    assert inner.most_inside == 1  # it never reached the app
    inner.release.set()
    assert (await first)[0]["status"] == 200


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
async def test_other_protocols_pass_straight_through(settings: Any, kind: str) -> None:
    settings.HTTP_CONCURRENCY, settings.HTTP_QUEUE_SECONDS = 1, 0.1
    inner = SlowApp()
    app = HttpConcurrencyLimit(inner)

    connections = [asyncio.create_task(_request(app, kind)) for _ in range(5)]
    await asyncio.sleep(0.2)  # longer than the queue wait: nobody was turned away

    assert inner.inside == 5
    inner.release.set()
    assert all(a[0]["status"] == 200 for a in await asyncio.gather(*connections))
