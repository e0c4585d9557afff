"""Publishing to channel-layer groups after commit.

The channel layer is a hint, not the record: a failed publish is logged and dropped,
and clients recover what they missed from the event log (resume / GET events/)."""

from __future__ import annotations

import asyncio
import logging
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


async def _send_batches(layer: Any, messages: Sequence[GroupMessage]) -> tuple[int, int]:
    batches = iter([messages[start : start + BATCH_SIZE] for start in range(0, len(messages), BATCH_SIZE)])
    sent = failed = 0
    first_error: BaseException | None = None

    async def worker() -> None:
        nonlocal sent, failed, first_error
        for batch in batches:
            try:
                await layer.group_send_many(batch)
                sent += len(batch)
            except Exception as exc:  # noqa: BLE001 - Redis down or restarting: log and move on
                failed += len(batch)
                first_error = first_error or exc

    await asyncio.gather(*(worker() for _ in range(BATCH_CONCURRENCY)))
    if failed:
        logger.warning(
            "realtime publish: %d of %d group sends failed (%r); clients will resume",
            failed,
            len(messages),
            first_error,
        )
    return sent, failed


async def _send_all(layer: BaseChannelLayer, messages: Sequence[GroupMessage]) -> tuple[int, int]:
    if hasattr(layer, "group_send_many"):
        return await _send_batches(layer, messages)
    pending = iter(messages)  # shared by the workers; next() never awaits, so no races
    sent = failed = 0
    first_error: BaseException | None = None

    async def worker() -> None:
        nonlocal sent, failed, first_error
        for group, message in pending:
            if failed >= GIVE_UP_AFTER_FAILURES and not sent:
                return
            try:
                await layer.group_send(group, message)  # type: ignore[attr-defined]
                sent += 1
            except Exception as exc:  # noqa: BLE001 - any layer failure: log and move on
                failed += 1
                first_error = first_error or exc

    await asyncio.gather(*(worker() for _ in range(min(PUBLISH_CONCURRENCY, len(messages)))))
    if failed:
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


# Set by publishing_deferred(): where committed messages wait for the end of the block.
_deferred: ContextVar[list[GroupMessage] | None] = ContextVar("realtime_deferred_messages", default=None)


def publish_on_commit(messages: Sequence[GroupMessage]) -> None:
    """Publish once the current transaction commits; nothing if it rolls back."""
    if not messages:
        return
    bucket = _deferred.get()
    if bucket is not None:
        transaction.on_commit(lambda: bucket.extend(messages), robust=True)
    else:
        transaction.on_commit(lambda: publish(messages), robust=True)


@contextmanager
def publishing_deferred() -> Iterator[None]:
    """Inside the block, what each committed transaction would publish is collected and
    published once when the block ends. A fan-out written in several transactions (one
    per chunk) then does not make chunk 2 wait for chunk 1's sockets, and the sockets get
    one pipelined burst. Only outside a transaction: inside one, nothing commits before
    the block ends, so publishing stays on the outer commit as usual. Nested blocks
    publish with the outermost."""
    if connection.in_atomic_block or _deferred.get() is not None:
        yield
        return
    bucket: list[GroupMessage] = []
    token = _deferred.set(bucket)
    try:
        yield
    finally:
        _deferred.reset(token)
        publish(bucket)
