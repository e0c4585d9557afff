"""The one WebSocket consumer: /ws/v1/events/. It only translates between frames and
the functions below; ORM work runs in database_sync_to_async functions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .frames import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_SERVER_ERROR,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHORIZED,
    CLOSE_UNSUPPORTED_DATA,
    LAYER_CATCH_UP,
    FrameError,
    Ping,
    Resume,
    frame_too_big,
    parse_client_frame,
    user_group,
)
from .handshake import Credential, credential_from_scope, credential_user, origin_allowed
from .presence import PresenceStore, presence_store
from .selectors import user_event_frames_after, user_latest_seq
from .stream import EventStream, Frame

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _in_thread_pool(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run a socket's short database reads on the executor's threads, each with its own
    pooled connection. thread_sensitive (channels' default) puts every socket of the
    process on one thread: bench/ saw that thread 100 % busy while 1,500 sockets
    connected, and the event loop idle. These reads touch no request state."""
    return database_sync_to_async(func, thread_sensitive=False)  # type: ignore[no-any-return]


@_in_thread_pool
def _credential(scope: dict[str, Any]) -> Credential | None:
    return credential_from_scope(scope)


@_in_thread_pool
def _user_is_active(credential: Credential) -> bool:
    return credential_user(credential) is not None


@_in_thread_pool
def _frames_after(user_id: int, after_seq: int, before_seq: int | None, limit: int) -> list[Frame]:
    return user_event_frames_after(user_id=user_id, after_seq=after_seq, before_seq=before_seq, limit=limit)


@_in_thread_pool
def _latest_seq(user_id: int) -> int:
    return user_latest_seq(user_id=user_id)


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Server frames: events `{"type", "seq", "ts", "data"}`, `resumed`, `pong`, `error`.
    Client frames: `{"type": "resume", "after_seq": N}`, `{"type": "ping"}`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id: int | None = None
        self.group: str | None = None
        self.stream: EventStream | None = None
        self.presence: PresenceStore | None = None
        self.heartbeat: asyncio.Task[None] | None = None
        self.closed = False

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        # Chinese as UTF-8, not \uXXXX escapes: half the bytes on a phone's connection.
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"))

    async def dispatch(self, message: dict[str, Any]) -> None:
        # One failing handler (database gone, a bug) must not leave the user in their
        # group and in presence: close with 1011, the client reconnects and resumes.
        try:
            await super().dispatch(message)
        except StopConsumer:
            raise
        except Exception:
            logger.exception("realtime consumer failed on %s", message.get("type"))
            await self._shut(CLOSE_SERVER_ERROR)
            raise StopConsumer() from None

    async def connect(self) -> None:
        await self.accept()  # before any refusal, so a browser can read the close code
        if not origin_allowed(self.scope):
            await self._shut(CLOSE_FORBIDDEN_ORIGIN)
            return
        credential = await _credential(self.scope)
        if credential is None:
            await self._shut(CLOSE_UNAUTHORIZED)
            return
        # Join the group before checking the user, so a deactivation committed after the
        # check reaches this socket (and one committed before it fails the check).
        self.group = user_group(credential.user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        if not await _user_is_active(credential):
            await self._shut(CLOSE_UNAUTHORIZED)
            return
        user_id = self.user_id = credential.user_id
        self.stream = EventStream(
            fetch=lambda after, before, limit: _frames_after(user_id, after, before, limit),
            latest_seq=lambda: _latest_seq(user_id),
            send=self.send_json,
        )
        self.presence = presence_store()
        await self._presence("join")
        if self.presence.heartbeat_seconds:
            self.heartbeat = asyncio.create_task(self._keep_alive(self.presence.heartbeat_seconds))

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.closed or self.stream is None:
            return
        if text_data is None:
            await self._shut(CLOSE_UNSUPPORTED_DATA)
            return
        if frame_too_big(text_data):
            await self._shut(CLOSE_TOO_BIG)
            return
        try:
            frame = parse_client_frame(text_data)
        except FrameError as error:
            await self.send_json(error.frame())
            return
        if isinstance(frame, Ping):
            await self.send_json({"type": "pong"})
        elif isinstance(frame, Resume):
            seq = await self.stream.resume(frame.after_seq)
            await self.send_json({"type": "resumed", "seq": seq})

    # Channel-layer messages (see frames.LAYER_*).

    async def realtime_event(self, message: dict[str, Any]) -> None:
        if self.stream is not None and not self.closed:
            await self.stream.live(message["frame"])

    async def realtime_disconnect(self, message: dict[str, Any]) -> None:
        if not self.closed:
            await self._shut(CLOSE_UNAUTHORIZED)

    async def disconnect(self, code: int) -> None:
        await self._leave()

    # Housekeeping.

    async def _shut(self, code: int) -> None:
        await self._leave()
        self.closed = True
        await self.close(code=code)

    async def _leave(self) -> None:
        """Leave the group and presence; safe to call twice. Failures (Redis down) are
        logged: the group entry and presence entry expire on their own."""
        self.stream = None
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            self.heartbeat = None
        if self.presence is not None:
            await self._presence("leave")
            self.presence = None
        if self.group is not None:
            group, self.group = self.group, None
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.warning("realtime: could not leave group %s", group, exc_info=True)

    async def _presence(self, action: str) -> None:
        if self.presence is None or self.user_id is None:
            return
        try:
            await getattr(self.presence, action)(self.user_id, self.channel_name)
        except Exception:  # presence is best effort; push covers a miss
            logger.warning("realtime: presence %s failed for user %s", action, self.user_id, exc_info=True)

    async def _keep_alive(self, interval: float) -> None:
        """Refresh this socket's presence entry before it expires, and its group
        membership (channels_redis forgets members after group_expiry, a day, and all of
        them when Redis restarts), then catch up on what the log has beyond the socket."""
        while True:
            await asyncio.sleep(interval)
            await self._presence("refresh")
            if self.group is not None:
                with contextlib.suppress(Exception):
                    layer = self.channel_layer
                    lost = hasattr(layer, "group_has") and not await layer.group_has(
                        self.group, self.channel_name
                    )
                    await layer.group_add(self.group, self.channel_name)
                    if lost:
                        # A Redis restart forgot the group: what was published before the
                        # re-join never came. Catch up in the dispatch loop (one message at
                        # a time, so it cannot interleave with a live event). Only then:
                        # a database read per socket per heartbeat would cost an idle
                        # process more than the sockets themselves.
                        await layer.send(self.channel_name, {"type": LAYER_CATCH_UP})

    async def realtime_catch_up(self, message: dict[str, Any]) -> None:
        if self.stream is not None and not self.closed:
            await self.stream.catch_up()
