"""ASGI entry point: HTTP through Django, WebSockets through the realtime gateway."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.embedded")

from backend.conventions.asgi_handler import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from backend.conventions.concurrency import HttpConcurrencyLimit  # noqa: E402
from backend.realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {"http": HttpConcurrencyLimit(django_asgi_app), "websocket": websocket_application}
)
