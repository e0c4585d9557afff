"""The reply router: parents' SMS replies (上行) go to the app that sent the text they
answer.

Apps register a handler per source type from their AppConfig.ready():

    register_reply_handler("notice", notice_sms_reply)   # "1"/"确认" confirms

A reply to a text whose source is "notice:12:notice.created:0" goes to the "notice"
handler first; when it does not consume the reply (returns False), handlers registered
under "*" (e.g. messaging, which files it into the teacher's chat) get it. Replies
nobody consumes stay in `SmsReply` for school admins. T/TD/退订 never reach handlers:
they unsubscribe the number."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

logger = logging.getLogger(__name__)

ANY_SOURCE = "*"


@dataclass(frozen=True)
class InboundReply:
    phone: str
    content: str
    received_at: datetime
    account_id: int | None
    # The source key of the latest text sent to this phone from that account, e.g.
    # "notice:12:notice.created:0"; None when we never texted the number.
    source: str | None
    user_id: int | None

    @property
    def source_type(self) -> str | None:
        return self.source.split(":", 1)[0] if self.source else None


ReplyHandler = Callable[[InboundReply], bool]

_lock = threading.Lock()
_handlers: dict[str, list[ReplyHandler]] = {}


def register_reply_handler(source_type: str, handler: ReplyHandler) -> None:
    """Route replies to texts of `source_type` ("notice", "conversation", …, or "*" for
    any reply not consumed so far) to `handler`, which returns True when it consumed
    the reply. Registering the same handler twice is a no-op."""
    if not source_type or ":" in source_type:
        raise ValueError(f"source type {source_type!r} must be a bare word like 'notice' (or '*')")
    with _lock:
        handlers = _handlers.setdefault(source_type, [])
        if handler not in handlers:
            handlers.append(handler)


def unregister_reply_handler(source_type: str, handler: ReplyHandler) -> None:
    """Remove a handler (tests register temporary ones)."""
    with _lock:
        handlers = _handlers.get(source_type, [])
        if handler in handlers:
            handlers.remove(handler)


def route_reply(reply: InboundReply) -> str:
    """Offer the reply to the handlers; return the source type of the one that consumed
    it, or "" when none did. A handler that raises is logged and its writes are rolled
    back (its savepoint), so one broken app cannot lose the reply."""
    with _lock:
        chain = [(reply.source_type, h) for h in _handlers.get(reply.source_type or "", [])]
        chain += [(ANY_SOURCE, h) for h in _handlers.get(ANY_SOURCE, [])]
    for source_type, handler in chain:
        try:
            with transaction.atomic():
                consumed = handler(reply)
        except Exception:
            logger.exception("SMS reply handler %r failed", handler)
            continue
        if consumed:
            return source_type or ANY_SOURCE
    return ""
