"""The delivery baseline: a bare asyncio `websockets` server (compression off) that
subscribes to a Redis channel and forwards every PUBLISHed payload to all its clients.
On the channel NAME + "-to", a payload "PATH\nFRAME" goes only to the client that
connected with that path (one user's socket, like a `user.<id>` group).

    python -m bench.loadgen.bare_ws --port P --redis URL --channel NAME"""

from __future__ import annotations

import argparse
import asyncio

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()
BY_PATH: dict[str, ServerConnection] = {}


async def handler(ws: ServerConnection) -> None:
    CLIENTS.add(ws)
    path = ws.request.path if ws.request else ""
    BY_PATH[path] = ws
    try:
        await ws.wait_closed()
    finally:
        CLIENTS.discard(ws)
        if BY_PATH.get(path) is ws:
            del BY_PATH[path]


async def pump(url: str, channel: str) -> None:
    client = aioredis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel, channel + "-to")
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        if message["channel"].decode() == channel:
            broadcast(CLIENTS, message["data"].decode())
        else:
            path, frame = message["data"].decode().split("\n", 1)
            if path in BY_PATH:
                broadcast([BY_PATH[path]], frame)


async def main_async(port: int, url: str, channel: str) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None):
        await pump(url, channel)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--channel", default="bench-bare")
    args = parser.parse_args()
    asyncio.run(main_async(args.port, args.redis, args.channel))


if __name__ == "__main__":
    main()
