"""Delivery reports (状态报告) and replies (上行短信) in Aliyun's webhook JSON formats.

Aliyun POSTs a JSON array to the configured callback URL. SmsReport items carry
phone_number, send_time, report_time, success, err_code, err_msg, sms_size, biz_id,
out_id; SmsUp items carry phone_number, send_time, content, sign_name, dest_code,
sequence_id. Times are local China time without an offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from sms_gateway.errors import CallbackFormatError

#: China has had no DST since 1991, so a fixed +08:00 equals Asia/Shanghai for any date we
#: handle, without depending on the system tz database being installed.
SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
ALIYUN_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
#: What the webhook receiver must answer so that Aliyun stops retrying the push.
CALLBACK_ACK: Final = {"code": 0, "msg": "接收成功"}


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """Final delivery outcome of one message to one number."""

    phone: str
    biz_id: str
    success: bool
    err_code: str
    err_msg: str
    sms_size: int
    send_time: datetime | None
    report_time: datetime | None
    out_id: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A text a parent sent back (MO); ``dest_code`` is the extension code it was sent to."""

    phone: str
    content: str
    send_time: datetime | None
    sign_name: str
    dest_code: str
    sequence_id: int | None


def parse_aliyun_time(value: str) -> datetime:
    """Parse ``2024-03-01 08:00:00`` (China time) into an aware datetime."""
    return datetime.strptime(value, ALIYUN_TIME_FORMAT).replace(tzinfo=SHANGHAI)


def format_aliyun_time(value: datetime) -> str:
    """Format an aware datetime as Aliyun's China-time string."""
    return value.astimezone(SHANGHAI).strftime(ALIYUN_TIME_FORMAT)


class _Item:
    """Typed access to one JSON object, with errors that say which item and field."""

    def __init__(self, kind: str, index: int, raw: object) -> None:
        if not isinstance(raw, dict):
            raise CallbackFormatError(f"{kind}[{index}]: expected a JSON object")
        self.kind, self.index, self.raw = kind, index, raw

    def _fail(self, key: str, why: str) -> CallbackFormatError:
        return CallbackFormatError(f"{self.kind}[{self.index}].{key}: {why}")

    def text(self, key: str, *, required: bool = True) -> str:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise self._fail(key, "missing")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self._fail(key, f"expected a string, got {type(value).__name__}")
        text = str(value)
        if required and not text:
            raise self._fail(key, "empty")
        return text

    def integer(self, key: str) -> int | None:
        text = self.text(key, required=False)
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise self._fail(key, f"expected an integer, got {text!r}") from None

    def flag(self, key: str) -> bool:
        value = self.raw.get(key)
        # Aliyun sends a JSON boolean; accept "true"/"false" strings from lenient relays.
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self._fail(key, f"expected true or false, got {value!r}")

    def time(self, key: str) -> datetime | None:
        text = self.text(key, required=False)
        if not text:
            return None
        try:
            return parse_aliyun_time(text)
        except ValueError:
            raise self._fail(key, f"expected 'YYYY-MM-DD HH:MM:SS', got {text!r}") from None


def _load_array(kind: str, body: bytes | str) -> list[object]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CallbackFormatError(f"{kind}: body is not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise CallbackFormatError(f"{kind}: expected a JSON array, got {type(data).__name__}")
    return data


def parse_report_body(body: bytes | str) -> list[DeliveryReport]:
    """Parse an Aliyun SmsReport webhook body. Raises :class:`CallbackFormatError`."""
    reports = []
    for index, raw in enumerate(_load_array("SmsReport", body)):
        item = _Item("SmsReport", index, raw)
        size = item.integer("sms_size")
        reports.append(
            DeliveryReport(
                phone=item.text("phone_number"),
                biz_id=item.text("biz_id"),
                success=item.flag("success"),
                err_code=item.text("err_code", required=False),
                err_msg=item.text("err_msg", required=False),
                sms_size=1 if size is None else size,
                send_time=item.time("send_time"),
                report_time=item.time("report_time"),
                out_id=item.text("out_id", required=False) or None,
            )
        )
    return reports


def parse_reply_body(body: bytes | str) -> list[Reply]:
    """Parse an Aliyun SmsUp webhook body. Raises :class:`CallbackFormatError`."""
    replies = []
    for index, raw in enumerate(_load_array("SmsUp", body)):
        item = _Item("SmsUp", index, raw)
        replies.append(
            Reply(
                phone=item.text("phone_number"),
                content=item.text("content", required=False),
                send_time=item.time("send_time"),
                sign_name=item.text("sign_name", required=False),
                dest_code=item.text("dest_code", required=False),
                sequence_id=item.integer("sequence_id"),
            )
        )
    return replies


def _time_or_empty(value: datetime | None) -> str:
    return "" if value is None else format_aliyun_time(value)


def report_body(reports: Iterable[DeliveryReport]) -> bytes:
    """Serialise reports in SmsReport format (what Aliyun and the simulator POST)."""
    items: list[Mapping[str, object]] = [
        {
            "phone_number": r.phone,
            "send_time": _time_or_empty(r.send_time),
            "report_time": _time_or_empty(r.report_time),
            "success": r.success,
            "err_code": r.err_code,
            "err_msg": r.err_msg,
            "sms_size": str(r.sms_size),
            "biz_id": r.biz_id,
            "out_id": r.out_id or "",
        }
        for r in reports
    ]
    return json.dumps(items, ensure_ascii=False).encode()


def reply_body(replies: Iterable[Reply]) -> bytes:
    """Serialise replies in SmsUp format (what Aliyun and the simulator POST)."""
    items: list[Mapping[str, object]] = [
        {
            "phone_number": r.phone,
            "send_time": _time_or_empty(r.send_time),
            "content": r.content,
            "sign_name": r.sign_name,
            "dest_code": r.dest_code,
            "sequence_id": r.sequence_id,
        }
        for r in replies
    ]
    return json.dumps(items, ensure_ascii=False).encode()
