"""N WebSocket clients in one asyncio process.

    python -m bench.loadgen.ws_clients --mode stack|bare --urls ws://… [ws://…] \
        --tokens-file F --seconds S

stack: `Authorization: Bearer` on the handshake, then `resume` with after_seq = 1 << 62
(answered by `resumed` with the current seq, which becomes the cursor), then live
events are checked to be gap-free. bare: just connects. Prints READY once every client
is connected, then for every `notice.created` (stack) or message (bare) records
(notice_id, client, wall-clock receive time). Stops after --seconds or when stdin
closes, and prints one JSON document on stdout."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect


async def client(
    i: int, url: str, token: str | None, mode: str, out: dict[str, Any], ready: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with connect(
        url, additional_headers=headers, compression=None, max_size=2**20, open_timeout=30
    ) as ws:
        cursor: int | None = None

        def connected() -> None:
            out["connected"] += 1
            if out["connected"] == out["clients"]:
                ready.set()

        if mode == "stack":
            # Ready once `resumed` is back: a live frame that overtook it would carry a
            # seq the `resumed` cursor already covers, and look lost.
            await ws.send(json.dumps({"type": "resume", "after_seq": 1 << 62}))
        else:
            cursor = 0
            connected()
        async for raw in ws:
            now = time.time()
            frame = json.loads(raw)
            kind = frame.get("type")
            if mode == "stack":
                if kind == "resumed":
                    cursor = int(frame["seq"])
                    connected()
                    continue
                if kind != "notice.created" or cursor is None:
                    continue
                seq = int(frame["seq"])
                if seq != cursor + 1:
                    out["gaps"].append([i, cursor, seq])
                cursor = max(cursor, seq)
                notice_id = frame["data"]["notice_id"]
            else:
                notice_id = frame["notice_id"]
            out["received"].append([notice_id, i, now])


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    tokens: list[str | None] = args.tokens
    out: dict[str, Any] = {"clients": len(tokens), "connected": 0, "received": [], "gaps": [], "errors": []}
    ready = asyncio.Event()
    tasks = [
        asyncio.create_task(client(i, args.urls[i % len(args.urls)], tok, args.mode, out, ready))
        for i, tok in enumerate(tokens)
    ]

    async def watch(t: asyncio.Task[None]) -> None:
        try:
            await t
        except Exception as exc:
            out["errors"].append(repr(exc))

    watchers = [asyncio.create_task(watch(t)) for t in tasks]
    try:
        await asyncio.wait_for(ready.wait(), timeout=60)
    except TimeoutError:
        out["errors"].append(f"only {out['connected']} of {len(tokens)} connected")
    await asyncio.sleep(0.5)  # let `resumed` arrive before anything is posted
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    # The harness writes "EXPECT <frames>" once it has sent everything: wait for that many
    # frames (or --drain seconds), so late frames are not counted as lost.
    line = loop.run_in_executor(None, sys.stdin.readline)
    done, _ = await asyncio.wait(
        [line, asyncio.ensure_future(asyncio.sleep(args.seconds))], return_when=asyncio.FIRST_COMPLETED
    )
    if line in done and line.result().startswith("EXPECT"):
        expected = int(line.result().split()[1])
        deadline = time.monotonic() + args.drain
        # Polling a counter every 50 ms is precise enough for a drain.
        while len(out["received"]) < expected and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["stack", "bare"], required=True)
    parser.add_argument("--urls", nargs="+", required=True)
    parser.add_argument("--tokens-file")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--drain", type=float, default=30)
    args = parser.parse_args()
    args.tokens = (
        json.loads(Path(args.tokens_file).read_text()) if args.tokens_file else [None] * args.clients
    )
    out = asyncio.run(main_async(args))
    out["errors"] = [e for e in out["errors"] if "CancelledError" not in e]
    sys.stdout.write("RESULT " + json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
