"""A bound on how many HTTP requests one ASGI process works on at once.

Django runs each request's view in a thread of its own under ASGI. With no bound, a
burst (the evening check-in rush, bench/ `checkin_burst`: 500/s offered) became
hundreds of threads fighting over the GIL and the process's 20 pooled database
connections; requests waited 10 s for a connection and failed with 500, and throughput
fell to ~10/s. Here the excess waits as a cheap coroutine in arrival order, at most
HTTP_QUEUE_SECONDS, and then answers 503 `server_busy` with Retry-After, so the process
keeps working at full speed on what it admitted. WebSockets are not affected."""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

from django.conf import settings

Scope = dict[str, Any]

BUSY_CODE = "server_busy"
BUSY_MESSAGE = "服务器繁忙，请稍后重试"


class HttpConcurrencyLimit:
    def __init__(self, app: Any) -> None:
        self.app = app
        # One semaphore per event loop (tests run a loop per test).
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _semaphore(self, limit: int) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(limit)
        return semaphore

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        limit = int(getattr(settings, "HTTP_CONCURRENCY", 0) or 0)
        if scope["type"] != "http" or limit <= 0:
            await self.app(scope, receive, send)
            return
        semaphore = self._semaphore(limit)
        try:
            await asyncio.wait_for(semaphore.acquire(), timeout=float(settings.HTTP_QUEUE_SECONDS))
        except TimeoutError:
            await _busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            semaphore.release()


async def _busy(send: Any) -> None:
    body = json.dumps({"error": {"code": BUSY_CODE, "message": BUSY_MESSAGE}}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", b"2"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
