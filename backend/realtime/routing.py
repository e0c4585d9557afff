"""WebSocket routing for backend/asgi.py. Origin and credential checks happen inside
the consumer's connect (after accept), so refusals carry a close code a browser can
read: 4401 for credentials, 4403 for a foreign Origin."""

from __future__ import annotations

from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from .consumers import EventsConsumer
from .server_logging import defer_autobahn_debug_formatting

# The ASGI process loads this module: autobahn stops formatting debug lines per handshake.
defer_autobahn_debug_formatting()

websocket_application = URLRouter(
    [
        path("ws/v1/events/", EventsConsumer.as_asgi()),
        # Any other path: refuse the handshake instead of raising "No route found".
        re_path(r"", WebsocketDenier.as_asgi()),
    ]
)
