"""The push baseline: raw asyncio HTTP/1.1 POSTs of FCM v1 bodies to the mock FCM, over
C keep-alive connections, no SDK. Prints JSON: count, seconds, rate, statuses.

    python -m bench.loadgen.fcm_bare --url http://127.0.0.1:P --count N --connections C"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from urllib.parse import urlsplit


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    url = urlsplit(args.url)
    statuses: Counter[int] = Counter()
    todo = iter(range(args.count))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        for i in todo:
            body = json.dumps(
                {
                    "message": {
                        "token": f"bare-token-{i:07d}",
                        "notification": {"title": "【通知】明日运动会", "body": "压测小学：请穿运动服。"},
                        "data": {"notice_id": str(i)},
                    }
                },
                ensure_ascii=False,
            ).encode()
            writer.write(
                b"POST /v1/projects/bench/messages:send HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer x\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            statuses[int(head.split(b" ", 2)[1])] += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.connections)))
    seconds = time.perf_counter() - start
    return {"count": args.count, "seconds": seconds, "rate": args.count / seconds, "statuses": dict(statuses)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=500)
    print(json.dumps(asyncio.run(main_async(parser.parse_args()))))


if __name__ == "__main__":
    main()
