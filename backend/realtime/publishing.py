"""Publishing to channel-layer groups after commit.

The channel layer is a hint, not the record: a failed publish is logged and dropped,
and clients recover what they missed from the event log (resume / GET events/)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Concurrent group_sends per publish: enough to hide Redis round trips on big fan-outs
# without opening hundreds of connections.
PUBLISH_CONCURRENCY = 64
# When this many sends fail and none has succeeded, Redis is down: stop trying.
GIVE_UP_AFTER_FAILURES = 10

GroupMessage = tuple[str, dict[str, Any]]


async def _send_all(layer: BaseChannelLayer, messages: Sequence[GroupMessage]) -> tuple[int, int]:
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


def publish_on_commit(messages: Sequence[GroupMessage]) -> None:
    """Publish once the current transaction commits; nothing if it rolls back."""
    if messages:
        transaction.on_commit(lambda: publish(messages), robust=True)
