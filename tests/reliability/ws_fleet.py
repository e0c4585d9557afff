"""Reconnecting WebSocket clients, as the apps behave: connect with `Authorization:
Bearer`, send `resume` with the last seq seen, and on any drop reconnect (with a short
backoff) and resume from there. Runs on its own event loop in a background thread."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect


@dataclass
class ClientRecord:
    user_id: int
    cursor: int = 0
    connects: int = 0
    resumed: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)  # events applied, in seq order
    errors: list[str] = field(default_factory=list)


class Fleet:
    def __init__(self, url: str, tokens: Sequence[tuple[int, str]], seed: int = 0) -> None:
        self.url = url
        self.clients = [ClientRecord(user_id) for user_id, _ in tokens]
        self._tokens = [token for _, token in tokens]
        self._rng = random.Random(seed)  # noqa: S311 - backoff jitter
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="ws-fleet", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> Fleet:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def snapshot(self) -> list[ClientRecord]:
        with self._lock:
            return [
                ClientRecord(c.user_id, c.cursor, c.connects, c.resumed, list(c.frames), list(c.errors))
                for c in self.clients
            ]

    def all_resumed_at_least(self, times: int) -> bool:
        with self._lock:
            return all(c.resumed >= times for c in self.clients)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        tasks = [asyncio.create_task(self._client(i)) for i in range(len(self.clients))]
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, index: int) -> None:
        record = self.clients[index]
        headers = {"Authorization": f"Bearer {self._tokens[index]}"}
        delay = 0.1
        while True:
            try:
                async with connect(
                    self.url, additional_headers=headers, open_timeout=30, max_size=2**22
                ) as ws:
                    with self._lock:
                        record.connects += 1
                    await ws.send(json.dumps({"type": "resume", "after_seq": record.cursor}))
                    resumed = False
                    async for raw in ws:
                        frame = json.loads(raw)
                        with self._lock:
                            if frame.get("type") == "resumed":
                                record.resumed += 1
                                resumed = True
                                record.cursor = int(frame["seq"])
                                delay = 0.1
                            elif "seq" in frame:
                                # The documented app rules (mobile_api_docs/realtime.md):
                                # apply seq == cursor + 1; drop seq <= cursor (already
                                # applied); before `resumed`, a later seq is a live event
                                # that overtook the replay, which will bring it in order.
                                seq = int(frame["seq"])
                                if seq == record.cursor + 1:
                                    record.frames.append(frame)
                                    record.cursor = seq
                                elif seq > record.cursor + 1 and resumed:
                                    record.errors.append(f"gap {record.cursor} -> {seq}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any drop: reconnect, as the apps do
                with self._lock:
                    record.errors.append(type(exc).__name__)
            await asyncio.sleep(delay * (1 + self._rng.random()))
            delay = min(delay * 2, 2.0)
