"""An open-loop HTTP/1.1 POST generator (asyncio, one process): request i is sent at
start + i / rate whatever the answers do (slow answers do not slow the offered load), on
keep-alive connections opened as needed (at most --max-connections).

    python -m bench.loadgen.http_open --requests-file F --rate R [--max-connections C]

F is a JSON list of [base_url, path, bearer_token, body]. Waits for a line on stdin
before starting, then prints one JSON document: per request [sent wall clock, latency
from the scheduled time (s), status, response "id"], and errors."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def main_async(args: argparse.Namespace, requests: list[list[str]]) -> dict[str, object]:
    idle: dict[tuple[str, int], list[Conn]] = {}
    opened = 0
    limit = asyncio.Semaphore(args.max_connections)
    rows: list[list[object]] = [[] for _ in requests]
    errors: list[str] = []

    async def one(i: int, scheduled: float, wall: float) -> None:
        nonlocal opened
        base, path, token, body = requests[i]
        url = urlsplit(base)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        data = body.encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        async with limit:
            pool = idle.setdefault((host, port), [])
            if pool:
                reader, writer = pool.pop()
            else:
                reader, writer = await asyncio.open_connection(host, port)
                opened += 1
            try:
                writer.write(head + data)
                answer = await reader.readuntil(b"\r\n\r\n")
                status = int(answer.split(b" ", 2)[1])
                length = 0
                for line in answer.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                payload = await reader.readexactly(length)
                latency = time.perf_counter() - scheduled
                pool.append((reader, writer))
            except Exception as exc:
                writer.close()
                errors.append(repr(exc)[:200])
                rows[i] = [wall, time.perf_counter() - scheduled, 0, None]
                return
        ident = None
        if status < 300:
            with contextlib.suppress(ValueError):
                ident = json.loads(payload).get("id")
        elif len(errors) < 5:
            errors.append(f"{status} {payload[:200]!r}")
        rows[i] = [wall, latency, status, ident]

    start = time.perf_counter()
    wall0 = time.time()
    tasks = []
    for i in range(len(requests)):
        scheduled = start + i / args.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled, wall0 + i / args.rate)))
    _, pending = await asyncio.wait(tasks, timeout=args.timeout)
    for task in pending:  # unanswered within --timeout: counted as errors, never dropped
        task.cancel()
    for i, row in enumerate(rows):
        if not row:
            rows[i] = [wall0 + i / args.rate, time.perf_counter() - (start + i / args.rate), 0, None]
    if pending:
        errors.append(f"{len(pending)} requests unanswered after {args.timeout:g} s")
    return {"rows": rows, "errors": errors[:5], "connections": opened, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests-file", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--max-connections", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()
    requests = json.loads(Path(args.requests_file).read_text())
    print("READY", flush=True)
    sys.stdin.readline()
    print(json.dumps(asyncio.run(main_async(args, requests))), flush=True)


if __name__ == "__main__":
    main()
