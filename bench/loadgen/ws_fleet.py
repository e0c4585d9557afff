"""A fleet of WebSocket clients in one asyncio process, driven by lines on stdin.

    python -m bench.loadgen.ws_fleet --mode stack|bare --urls ws://… [ws://…] \
        [--tokens-file F] [--clients N] [--ping S] [--connect-rate R] [--no-times]

stack: `Authorization: Bearer` on the handshake, then `resume` with after_seq = 1 << 62
(or, with --live, no resume: every live frame is taken as is); the `resumed` seq becomes
the socket's cursor, and later event frames must follow it without gaps. bare: connect
only (the bare server broadcasts what Redis PUBLISHes).

Every event frame is keyed (`data.notice_id`, `data.checkin_id`, else `k`/`seq`) and its
arrival time kept (or only counted, with --no-times). After connecting it prints one line
`READY {json}`; then it answers commands, one JSON line each:

    STATS                 counts, per-key arrival times, gaps, errors, pongs
    RESET                 forget what was received so far
    CLOSE                 close every socket (the client leaves)
    RECONNECT S           reconnect every socket spread over S seconds, resume from its
                          cursor; reports connect latencies, open times, frames recovered
    END                   print the final stats and exit

Bounded: at most --max-seconds (default 600) of life, then it exits on its own."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

RESUME_LATEST = 1 << 62


class Fleet:
    def __init__(self, args: argparse.Namespace, tokens: list[str | None]) -> None:
        self.args = args
        self.tokens = tokens
        self.sockets: dict[int, ClientConnection] = {}
        self.cursor: dict[int, int] = {}
        self.readers: dict[int, asyncio.Task[None]] = {}
        self.pingers: dict[int, asyncio.Task[None]] = {}
        self.times: dict[str, list[float]] = {}
        self.counts: dict[str, int] = {}
        self.first = self.last = 0.0
        self.total = 0
        self.pongs = 0
        self.gaps: list[list[int]] = []
        self.errors: list[str] = []
        self.dropped = 0  # sockets closed by the server
        self.recovered: dict[int, int] = {}
        self.resumed: dict[int, asyncio.Event] = {}
        self.leaving = False

    def url(self, i: int) -> str:
        base = str(self.args.urls[i % len(self.args.urls)])
        # Bare clients get their own path, so the bare server can address one of them.
        return base if self.args.mode == "stack" else f"{base}c{i + self.args.first}"

    async def open(self, i: int, after_seq: int | None) -> tuple[float, float]:
        """Connect socket i (and resume after `after_seq`); returns the handshake's
        latency and its end (wall clock); the resume is awaited before returning."""
        token = self.tokens[i]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        t = time.perf_counter()
        ws = await connect(
            self.url(i),
            additional_headers=headers,
            compression=None,
            max_size=2**20,
            open_timeout=60,
            ping_interval=None,
            close_timeout=2,
        )
        latency = time.perf_counter() - t
        accepted = time.time()
        self.sockets[i] = ws
        self.resumed[i] = asyncio.Event()
        self.readers[i] = asyncio.create_task(self.read(i, ws))
        if self.args.mode == "stack" and not self.args.live:
            self.recovered[i] = 0
            await ws.send(json.dumps({"type": "resume", "after_seq": after_seq}))
            await asyncio.wait_for(self.resumed[i].wait(), 60)
        else:
            self.resumed[i].set()
        if self.args.ping:
            self.pingers[i] = asyncio.create_task(self.ping(ws))
        return latency, accepted

    async def ping(self, ws: ClientConnection) -> None:
        # Spread the pings over the interval, as phones would.
        await asyncio.sleep(random.uniform(0, self.args.ping))
        while True:
            if self.args.mode == "stack":
                await ws.send('{"type":"ping"}')
            else:
                await ws.ping()
            await asyncio.sleep(self.args.ping)

    def record(self, key: str, now: float) -> None:
        self.total += 1
        self.first = self.first or now
        self.last = now
        if self.args.no_times:
            return
        self.times.setdefault(key, []).append(now)

    async def read(self, i: int, ws: ClientConnection) -> None:
        stack = self.args.mode == "stack"
        try:
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                kind = frame.get("type")
                if not stack:
                    self.record(str(frame.get("k", frame.get("notice_id"))), now)
                    continue
                if kind == "pong":
                    self.pongs += 1
                    continue
                if kind == "resumed":
                    self.cursor[i] = int(frame["seq"])
                    self.resumed[i].set()
                    continue
                if kind == "error" or "seq" not in frame:
                    self.errors.append(str(raw)[:200])
                    continue
                seq = int(frame["seq"])
                cursor = self.cursor.get(i)
                replaying = not self.resumed[i].is_set()
                if cursor is not None:
                    if seq <= cursor:
                        continue  # a live frame the replay already brought
                    if seq != cursor + 1 and not replaying:
                        self.gaps.append([i, cursor, seq])
                if replaying and not self.args.live:
                    self.recovered[i] = self.recovered.get(i, 0) + 1
                if cursor is not None or self.args.live:
                    self.cursor[i] = seq
                data = frame.get("data") or {}
                key = data.get("notice_id", data.get("checkin_id", data.get("k", seq)))
                self.record(str(key), now)
        except Exception as exc:
            if not self.leaving:
                self.errors.append(repr(exc)[:200])
        if not self.leaving and ws.close_code not in (None, 1000):
            self.dropped += 1
            self.errors.append(f"socket {i} closed by the server: {ws.close_code}")

    async def open_all(self, spread: float, after: dict[int, int] | None) -> dict[str, Any]:
        """Open every socket, starts spread evenly over `spread` seconds (0: at once,
        200 handshakes in flight at most)."""
        n = len(self.tokens)
        limit = asyncio.Semaphore(200 if spread == 0 else n)
        latencies: list[float] = []
        opened: list[float] = []
        resumed: list[float] = []
        failed: list[str] = []
        t0 = time.monotonic()

        async def one(i: int) -> None:
            if spread:
                await asyncio.sleep(max(0.0, t0 + spread * i / n - time.monotonic()))
            async with limit:
                try:
                    latency, accepted = await self.open(i, (after or {}).get(i, RESUME_LATEST))
                    latencies.append(latency)
                    opened.append(accepted)
                    resumed.append(time.time())
                except Exception as exc:
                    failed.append(repr(exc)[:200])

        await asyncio.gather(*(one(i) for i in range(n)))
        return {
            "connected": len(latencies),
            "latencies": latencies,
            "opened": opened,
            "resumed": resumed,
            "failed": failed[:5],
            "failed_count": len(failed),
        }

    async def close_all(self) -> None:
        self.leaving = True
        for task in self.pingers.values():
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets.values()), return_exceptions=True)
        await asyncio.gather(*self.readers.values(), return_exceptions=True)
        self.sockets.clear()
        self.readers.clear()
        self.pingers.clear()
        self.leaving = False

    def stats(self) -> dict[str, Any]:
        return {
            "sockets": len(self.sockets),
            "total": self.total,
            "first": self.first,
            "last": self.last,
            "times": self.times,
            "pongs": self.pongs,
            "gaps": len(self.gaps),
            "gap_samples": self.gaps[:3],
            "dropped": self.dropped,
            "errors": self.errors[:5],
            "error_count": len(self.errors),
        }


def emit(tag: str, payload: dict[str, Any]) -> None:
    sys.stdout.write(f"{tag} {json.dumps(payload)}\n")
    sys.stdout.flush()


async def main_async(args: argparse.Namespace, tokens: list[str | None]) -> None:
    fleet = Fleet(args, tokens)
    emit("READY", await fleet.open_all(args.connect_spread, None))
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(
            loop.run_in_executor(None, sys.stdin.readline), deadline - time.monotonic()
        )
        command = line.split()
        if not command or command[0] == "END":
            break
        if command[0] == "STATS":
            emit("STATS", fleet.stats())
        elif command[0] == "RESET":
            fleet.times.clear()
            fleet.total, fleet.first, fleet.last = 0, 0.0, 0.0
            emit("RESET", {})
        elif command[0] == "CLOSE":
            cursors = dict(fleet.cursor)
            await fleet.close_all()
            emit("CLOSED", {"cursors": len(cursors)})
        elif command[0] == "RECONNECT":
            before = dict(fleet.cursor)
            fleet.recovered.clear()
            out = await fleet.open_all(float(command[1]), before)
            out["recovered"] = [fleet.recovered.get(i, 0) for i in range(len(tokens))]
            emit("RECONNECTED", out)
    emit("RESULT", fleet.stats())
    with contextlib.suppress(Exception):
        await asyncio.wait_for(fleet.close_all(), 10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["stack", "bare"], required=True)
    parser.add_argument("--urls", nargs="+", required=True)
    parser.add_argument("--tokens-file")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--ping", type=float, default=0.0, help="seconds between pings (0: none)")
    parser.add_argument("--connect-spread", type=float, default=0.0)
    parser.add_argument("--live", action="store_true", help="stack: no resume, take live frames as they come")
    parser.add_argument("--no-times", action="store_true", help="count frames, keep no arrival times")
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--first", type=int, default=0, help="bare: number of the first client (its path)")
    args = parser.parse_args()
    tokens: list[str | None] = (
        json.loads(Path(args.tokens_file).read_text()) if args.tokens_file else [None] * args.clients
    )
    asyncio.run(main_async(args, tokens))


if __name__ == "__main__":
    main()
