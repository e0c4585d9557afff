"""A closed-loop HTTP/1.1 keep-alive load generator (asyncio, one process).

    python -m bench.loadgen.http_load --url http://127.0.0.1:P/path --connections C \
        --seconds S [--header 'Authorization: Bearer …']

Prints one JSON document: requests, seconds, rps, p50_ms, p99_ms, errors."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


async def worker(
    host: str, port: int, request: bytes, stop: float, lat: list[float], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop:
            t = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t)
            if status != 200:
                errors.append(str(status))
    finally:
        writer.close()


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    headers = "".join(f"{h}\r\n" for h in args.header)
    request = f"GET {url.path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}\r\n".encode()
    lat: list[float] = []
    errors: list[str] = []
    start = time.monotonic()
    stop = start + args.seconds
    results = await asyncio.gather(
        *(worker(host, port, request, stop, lat, errors) for _ in range(args.connections)),
        return_exceptions=True,
    )
    elapsed = time.monotonic() - start
    errors += [repr(r) for r in results if isinstance(r, BaseException)]
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, round(p / 100 * (len(lat) - 1)))] * 1000 if lat else float("nan")

    return {
        "requests": len(lat),
        "seconds": elapsed,
        "rps": len(lat) / elapsed,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "errors": errors[:5],
        "error_count": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
