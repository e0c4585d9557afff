"""The one WebSocket consumer: /ws/v1/events/. It only translates between frames and
the functions below; ORM work runs in database_sync_to_async functions."""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import SynchronousOnlyOperation

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
from .handshake import (
    Credential,
    credential_from_scope,
    credential_needs_thread,
    credential_user,
    origin_allowed,
)
from .presence import PresenceStore, presence_store
from .selectors import user_event_frames_after, user_latest_seq, user_resume_page
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


async def _credential_now(scope: dict[str, Any]) -> Credential | None:
    """A Bearer token is checked right here on the event loop (pure CPU); a ticket, or a
    token class that turns out to read the database, in a thread."""
    if not credential_needs_thread(scope):
        try:
            return credential_from_scope(scope)
        except SynchronousOnlyOperation:  # e.g. AUTH_TOKEN_CLASSES with a denylist
            pass
    return await _credential(scope)


@_in_thread_pool
def _user_is_active(credential: Credential) -> bool:
    return credential_user(credential) is not None


@_in_thread_pool
def _frames_after(user_id: int, after_seq: int, before_seq: int | None, limit: int) -> list[Frame]:
    return user_event_frames_after(user_id=user_id, after_seq=after_seq, before_seq=before_seq, limit=limit)


@_in_thread_pool
def _latest_seq(user_id: int) -> int:
    return user_latest_seq(user_id=user_id)


@_in_thread_pool
def _resume_page(user_id: int, after_seq: int, limit: int) -> tuple[int, list[Frame]]:
    # One hand-off for the latest seq and the first page (each hand-off also takes and
    # returns a pooled connection): bench/ reconnect storm.
    return user_resume_page(user_id=user_id, after_seq=after_seq, limit=limit)


class Heartbeat:
    """Keeps the open sockets of one event loop (one ASGI process) alive in Redis: every
    `interval` seconds it refreshes all their presence entries (before they expire) and
    group memberships (channels_redis forgets members after group_expiry, a day, and all
    of them when Redis restarts) with a few script calls for the whole process,
    instead of four round trips per socket. A socket whose group Redis had forgotten is
    told to catch up from the log: what was published before the re-join never came.

    bench/ (idle_capacity, 5,000 sockets pinging every 30 s, /proc CPU of the 2 ASGI
    processes over 60 s): 24–25 % of a core with a refresh task per socket, 10–11 % with
    this (and the dispatch below)."""

    def __init__(self, store: PresenceStore, interval: float) -> None:
        self.store = store
        self.interval = interval
        self.sockets: dict[str, EventsConsumer] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, consumer: EventsConsumer) -> None:
        self.sockets[consumer.channel_name] = consumer
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    def discard(self, consumer: EventsConsumer) -> None:
        self.sockets.pop(consumer.channel_name, None)
        if not self.sockets and self._task is not None:  # nothing left to keep alive here
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.beat()
            except Exception:  # Redis down: the next beat tries again; entries expire meanwhile
                logger.warning("realtime: heartbeat of %d sockets failed", len(self.sockets), exc_info=True)
            try:
                await self.tidy()
            except Exception:
                logger.warning("realtime: could not close idle Redis connections", exc_info=True)

    async def tidy(self) -> None:
        """Close the Redis connections a burst (a reconnect storm, a district notice)
        opened in this process and no longer uses: redis-py pools keep them for good."""
        await self.store.close_idle_connections()
        layers = {id(c.channel_layer): c.channel_layer for c in self.sockets.values()}
        for layer in layers.values():
            if hasattr(layer, "close_idle_connections"):
                await layer.close_idle_connections()

    async def beat(self) -> None:
        # (socket, user id, group) as they are now: a socket may leave during the awaits.
        sockets = [
            (c, c.user_id, c.group) for c in self.sockets.values() if c.user_id is not None and c.group
        ]
        if not sockets:
            return
        try:
            await self.store.refresh_many([(user_id, c.channel_name) for c, user_id, _ in sockets])
        finally:
            await self._undo_for_the_gone(sockets, presence=True)
        by_layer: dict[int, list[tuple[EventsConsumer, int, str]]] = {}
        for entry in sockets:
            by_layer.setdefault(id(entry[0].channel_layer), []).append(entry)
        for members in by_layer.values():
            layer = members[0][0].channel_layer
            memberships = [(group, c.channel_name) for c, _, group in members]
            try:
                if hasattr(layer, "group_refresh_many"):
                    lost = await layer.group_refresh_many(memberships)
                else:  # another layer (the in-memory one, the pub/sub one): plain re-joins
                    for group, channel in memberships:
                        await layer.group_add(group, channel)
                    lost = [False] * len(members)
            finally:
                await self._undo_for_the_gone(members, presence=False)
            for (consumer, _, _), was_lost in zip(members, lost, strict=True):
                if was_lost and self.sockets.get(consumer.channel_name) is consumer:
                    # Catch up in the socket's dispatch loop (one message at a time, so it
                    # cannot interleave with a live event). Only then: a database read per
                    # socket per beat would cost an idle process more than the sockets.
                    await layer.send(consumer.channel_name, {"type": LAYER_CATCH_UP})

    async def _undo_for_the_gone(
        self, sockets: list[tuple[EventsConsumer, int, str]], *, presence: bool
    ) -> None:
        """A socket that closed while the beat was in flight may have left before the
        beat's write landed (another pooled connection): remove it again, so a gone user
        does not stay "online" for a TTL nor a member of their group for a day."""
        for consumer, user_id, group in sockets:
            if self.sockets.get(consumer.channel_name) is consumer:
                continue
            try:
                if presence:
                    await self.store.leave(user_id, consumer.channel_name)
                else:
                    await consumer.channel_layer.group_discard(group, consumer.channel_name)
            except Exception:
                logger.warning(
                    "realtime: could not tidy up after a socket of user %s", user_id, exc_info=True
                )


_heartbeats: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Heartbeat]] = (
    weakref.WeakKeyDictionary()
)


def heartbeat_for(store: PresenceStore, interval: float) -> Heartbeat:
    """The running loop's heartbeat for `store` (one per process and presence store)."""
    by_store = _heartbeats.setdefault(asyncio.get_running_loop(), {})
    heartbeat = by_store.get(id(store))
    if heartbeat is None or heartbeat.store is not store:
        heartbeat = by_store[id(store)] = Heartbeat(store, interval)
    return heartbeat


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Server frames: events `{"type", "seq", "ts", "data"}`, `resumed`, `pong`, `error`.
    Client frames: `{"type": "resume", "after_seq": N}`, `{"type": "ping"}`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id: int | None = None
        self.group: str | None = None
        self.stream: EventStream | None = None
        self.presence: PresenceStore | None = None
        self.heartbeat: Heartbeat | None = None
        self.closed = False

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        # Chinese as UTF-8, not \uXXXX escapes: half the bytes on a phone's connection.
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"))

    async def dispatch(self, message: dict[str, Any]) -> None:
        # channels' own dispatch first runs close_old_connections() through
        # sync_to_async(thread_sensitive=True) for every message: a hop to the process's
        # one sync thread per ping, per live event, per handshake, to tidy connections of
        # a thread this consumer never uses (its ORM reads run in database_sync_to_async,
        # which tidies its own). bench/ (py-spy, idle sockets and broadcast) saw that hop
        # as the consumer's largest cost; the handlers are called directly instead.
        # One failing handler (database gone, a bug) must not leave the user in their
        # group and in presence: close with 1011, the client reconnects and resumes.
        try:
            handler = getattr(self, get_handler_name(message), None)
            if handler is None:
                raise ValueError(f"No handler for message type {message['type']}")
            await handler(message)
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
        credential = await _credential_now(self.scope)
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
            resume_page=lambda after, limit: _resume_page(user_id, after, limit),
        )
        self.presence = presence_store()
        await self._presence("join")
        if self.presence.heartbeat_seconds:
            self.heartbeat = heartbeat_for(self.presence, self.presence.heartbeat_seconds)
            self.heartbeat.add(self)

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

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # channels' own ends with aclose_old_connections(): a hop to the process's one
        # thread-sensitive sync thread per closing socket, to tidy connections of a thread
        # this consumer never uses (as in dispatch above). bench/ reconnect storm.
        await self.disconnect(message["code"])
        raise StopConsumer()

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
            self.heartbeat.discard(self)
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

    async def realtime_catch_up(self, message: dict[str, Any]) -> None:
        if self.stream is not None and not self.closed:
            await self.stream.catch_up()
