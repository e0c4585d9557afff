"""The floor of the required stack for the broadcast scenario: the least a Channels
consumer under daphne does to deliver per-user events on the product's channel layer.

It authenticates once at connect (the same JWT, no database), joins the user's group
(`user.<id>`, as the gateway does) and forwards each `realtime.event` frame as compact
JSON text. No resume, presence, heartbeat or catch-up, and no close_old_connections()
thread hand-off per message (Channels ≥ 4.2's dispatch does one: measured here, 1,500 →
2,360 frames per CPU-second without it). What the gateway costs above this
floor is ours to cut; the gap from this floor to the bare `websockets` server is the cost
of Channels + daphne + the Redis channel layer themselves.

    DJANGO_SETTINGS_MODULE=bench.settings daphne bench.loadgen.channels_floor:application"""

from __future__ import annotations

import json
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from channels.consumer import get_handler_name  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from rest_framework_simplejwt.exceptions import TokenError  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from backend.realtime.frames import user_group  # noqa: E402


class FloorConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    group = ""

    async def connect(self) -> None:
        header = dict(self.scope["headers"]).get(b"authorization", b"").decode()
        try:
            user_id = int(AccessToken(header.removeprefix("Bearer ").strip())["user_id"])  # type: ignore[arg-type]
        except (TokenError, KeyError, ValueError):
            await self.close(code=4401)
            return
        self.group = user_group(user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels ≥ 4.2 runs close_old_connections() on its sync thread before every
        # message (a thread hand-off each); nothing here touches the database.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def realtime_event(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message["frame"], ensure_ascii=False, separators=(",", ":")))


application = ProtocolTypeRouter({"websocket": FloorConsumer.as_asgi()})
