"""Parents' SMS replies to notice texts ("1" / "确认" confirms).

backend.sms routes an inbound reply to the handler of its source type; the source of
a notice text is "notice:<id>:<event>:<step>" (see delivery)."""

from __future__ import annotations

from backend.sms.replies import InboundReply, register_reply_handler

from .fanout import SOURCE_TYPE
from .services import notice_confirm_by_reply


def notice_reply(reply: InboundReply) -> bool:
    """True when the reply confirmed (or read) the notice it answers; False leaves it to
    the next handler (messaging: the teacher's direct chat)."""
    if reply.user_id is None or not reply.source:
        return False
    kind, _, rest = reply.source.partition(":")
    notice_id = rest.partition(":")[0]
    if kind != SOURCE_TYPE or not notice_id.isdigit():
        return False
    return notice_confirm_by_reply(notice_id=int(notice_id), user_id=reply.user_id, content=reply.content)


def register() -> None:
    register_reply_handler(SOURCE_TYPE, notice_reply)
