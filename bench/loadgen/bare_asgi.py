"""The request-overhead baseline: a raw ASGI app (no framework) answering a small JSON
body of the size /api/v1/me/ returns. Run it with daphne: bench.loadgen.bare_asgi:app"""

from __future__ import annotations

import json
from typing import Any

BODY = json.dumps(
    {
        "id": 1,
        "name": "家长",
        "phone": "138****0000",
        "roles": ["guardian"],
        "children": [],
        "pad": "x" * 300,
    },
    ensure_ascii=False,
).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
