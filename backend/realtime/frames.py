"""The wire protocol: server frames, channel-layer messages and client-frame parsing.

Pure functions, no I/O, so the consumer, the services and the REST fallback all build
exactly the same frames."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

# Close codes. 4401/4403 mirror HTTP 401/403 in the 4000–4999 application range.
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_UNSUPPORTED_DATA = 1003  # binary frames
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011

MAX_CLIENT_FRAME_BYTES = 64 * 1024
MAX_CLIENT_FRAME_DEPTH = 8
MAX_SEQ = 2**63 - 1  # PositiveBigIntegerField; a larger number would be a database error

# Channel-layer message types (handlers on the consumer: realtime_event, realtime_disconnect,
# realtime_catch_up).
LAYER_EVENT = "realtime.event"
LAYER_DISCONNECT = "realtime.disconnect"
LAYER_CATCH_UP = "realtime.catch_up"  # a socket's own heartbeat: send what the log has beyond it


def user_group(user_id: int) -> str:
    """The channel-layer group every socket of one user joins."""
    return f"user.{int(user_id)}"


def event_frame(*, event_type: str, seq: int, created_at: datetime, data: Any) -> dict[str, Any]:
    """`{"type", "seq", "ts", "data"}` with ts in ISO 8601 in Asia/Shanghai (+08:00)."""
    return {
        "type": event_type,
        "seq": seq,
        "ts": timezone.localtime(created_at).isoformat(),
        "data": data,
    }


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


class FrameError(Exception):
    """A client frame we answer with an error frame (the socket stays open)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message

    def frame(self) -> dict[str, Any]:
        return error_frame(self.code, self.message)


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Resume:
    after_seq: int


ClientFrame = Ping | Resume


def _depth_exceeds(text: str, limit: int) -> bool:
    """True when brackets nest deeper than `limit` (outside strings). Checked before
    json.loads, which would otherwise recurse on hostile input."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to nest that deep
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_client_frame(text: str) -> ClientFrame:
    """Turn a text frame into a typed client frame or raise FrameError.
    Size is checked by the caller (it closes the socket instead of answering)."""
    if _depth_exceeds(text, MAX_CLIENT_FRAME_DEPTH):
        raise FrameError("frame_too_deep", "消息嵌套层级过深")
    try:
        content = json.loads(text)
    except ValueError:
        raise FrameError("invalid_json", "消息不是有效的 JSON") from None
    if not isinstance(content, dict):
        raise FrameError("invalid_frame", "消息必须是 JSON 对象")
    frame_type = content.get("type")
    if not isinstance(frame_type, str):
        raise FrameError("invalid_frame", "消息缺少 type 字段")
    if frame_type == "ping":
        return Ping()
    if frame_type == "resume":
        after_seq = content.get("after_seq")
        # bool is an int subclass in Python; true/false is not a sequence number.
        if isinstance(after_seq, bool) or not isinstance(after_seq, int) or not 0 <= after_seq <= MAX_SEQ:
            raise FrameError("invalid_after_seq", "after_seq 必须是非负整数")
        return Resume(after_seq=after_seq)
    raise FrameError("unknown_type", "不支持的消息类型")


def frame_too_big(text: str) -> bool:
    # Every character is at most 4 bytes in UTF-8, so only long texts need encoding.
    if len(text) * 4 <= MAX_CLIENT_FRAME_BYTES:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > MAX_CLIENT_FRAME_BYTES
