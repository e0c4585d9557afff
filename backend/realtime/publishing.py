"""Publishing to channel-layer groups after commit.

The channel layer is a hint, not the record: a failed publish is logged and dropped,
and clients recover what they missed from the event log (resume / GET events/)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# Concurrent group_sends per publish: enough to hide Redis round trips on big fan-outs
# without opening hundreds of connections.
PUBLISH_CONCURRENCY = 64
# With a layer that has group_send_many (realtime.layers): groups per pipelined batch,
# and batches in flight at once.
BATCH_SIZE = 500
BATCH_CONCURRENCY = 4
# When this many sends fail and none has succeeded, Redis is down: stop trying.
GIVE_UP_AFTER_FAILURES = 10

GroupMessage = tuple[str, dict[str, Any]]


async def _send_all(layer: BaseChannelLayer, messages: Sequence[GroupMessage]) -> tuple[int, int]:
    """Send concurrently; returns (sent, not sent). With group_send_many (realtime.layers)
    the unit is a pipelined batch of BATCH_SIZE groups, otherwise one group_send, and then
    the workers stop once GIVE_UP_AFTER_FAILURES sends failed and none went through."""
    units: list[Sequence[GroupMessage]]
    if hasattr(layer, "group_send_many"):
        units = [messages[start : start + BATCH_SIZE] for start in range(0, len(messages), BATCH_SIZE)]
        workers, give_up = BATCH_CONCURRENCY, None

        async def send(unit: Sequence[GroupMessage]) -> None:
            await layer.group_send_many(unit)  # type: ignore[attr-defined]

    else:
        units = [[message] for message in messages]
        workers, give_up = PUBLISH_CONCURRENCY, GIVE_UP_AFTER_FAILURES

        async def send(unit: Sequence[GroupMessage]) -> None:
            await layer.group_send(*unit[0])  # type: ignore[attr-defined]

    pending = iter(units)  # shared by the workers; next() never awaits, so no races
    sent = failed = 0
    first_error: BaseException | None = None

    async def worker() -> None:
        nonlocal sent, failed, first_error
        for unit in pending:
            if give_up is not None and failed >= give_up and not sent:
                return
            try:
                await send(unit)
                sent += len(unit)
            except Exception as exc:  # noqa: BLE001 - Redis down or restarting: log and move on
                failed += len(unit)
                first_error = first_error or exc

    await asyncio.gather(*(worker() for _ in range(min(workers, len(units)))))
    if sent < len(messages):
        logger.warning(
            "realtime publish: %d of %d group sends failed (%r); clients will resume",
            len(messages) - sent,
            len(messages),
            first_error,
        )
    return sent, len(messages) - sent


def publish(messages: Sequence[GroupMessage]) -> None:
    """Send every message to its group now, concurrently in one event loop. Never raises."""
    if not messages:
        return
    try:
        layer = get_channel_layer()
        if layer is None:
            logger.warning("realtime publish skipped: no channel layer configured")
            return
        async_to_sync(_send_all)(layer, messages)
    except Exception:  # the event log has it; never fail the caller's request
        logger.exception("realtime publish failed for %d groups", len(messages))


class _BackgroundPublisher:
    """Publishes what committed transactions hand it on its own thread, in order,
    merging whatever queued up meanwhile into one publish."""

    JOIN_TIMEOUT = 120.0

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[list[GroupMessage] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="realtime-publisher", daemon=True)
        self._thread.start()

    def put(self, messages: Sequence[GroupMessage]) -> None:
        self._queue.put(list(messages))

    def _run(self) -> None:
        while True:
            messages = self._queue.get()
            if messages is None:
                return
            stop = False
            with contextlib.suppress(queue.Empty):
                while True:
                    more = self._queue.get_nowait()
                    if more is None:
                        stop = True
                        break
                    messages.extend(more)
            publish(messages)  # never raises
            if stop:
                return

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(self.JOIN_TIMEOUT)
        if self._thread.is_alive():
            logger.warning(
                "realtime publish: background publisher still busy after %.0f s", self.JOIN_TIMEOUT
            )


# Set by publishing_in_background(): the publisher committed messages go to.
_background: ContextVar[_BackgroundPublisher | None] = ContextVar(
    "realtime_background_publisher", default=None
)


def publish_on_commit(messages: Sequence[GroupMessage]) -> None:
    """Publish once the current transaction commits; nothing if it rolls back."""
    if not messages:
        return
    publisher = _background.get()
    if publisher is not None:
        transaction.on_commit(lambda: publisher.put(messages), robust=True)
    else:
        transaction.on_commit(lambda: publish(messages), robust=True)


@contextmanager
def publishing_in_background() -> Iterator[None]:
    """Inside the block, what each transaction publishes on commit goes out on a
    background thread while the caller carries on; the block ends once all of it is
    out. A fan-out written in several transactions (one per chunk) then neither makes
    chunk 2 wait for chunk 1's sockets nor holds chunk 1's sockets until the end.
    Only outside a transaction: inside one nothing commits before the block ends, so
    publishing stays on that commit as usual. Nested blocks share the outer publisher."""
    if connection.in_atomic_block or _background.get() is not None:
        yield
        return
    publisher = _BackgroundPublisher()
    token = _background.set(publisher)
    try:
        yield
    finally:
        _background.reset(token)
        publisher.close()
