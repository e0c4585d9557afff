from __future__ import annotations

import json
from datetime import datetime

import pytest

from sms_gateway.callbacks import (
    SHANGHAI,
    DeliveryReport,
    Reply,
    parse_reply_body,
    parse_report_body,
    reply_body,
    report_body,
)
from sms_gateway.errors import CallbackFormatError
from sms_gateway.providers import get_provider

REPORT = """[
  {"phone_number": "13900000001", "send_time": "2025-03-01 08:00:01", "report_time": "2025-03-01 08:00:04",
   "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "2",
   "biz_id": "932702304080415357^0", "out_id": "notice-42"},
  {"phone_number": "13900000002", "send_time": "2025-03-01 08:00:01", "report_time": "2025-03-01 08:01:00",
   "success": false, "err_code": "MK:0001", "err_msg": "", "sms_size": "1",
   "biz_id": "932702304080415357^0", "out_id": ""}
]"""

REPLY = """[
  {"phone_number": "13900000001", "send_time": "2025-03-01 08:05:00", "content": "1",
   "sign_name": "洛阳一小", "dest_code": "07", "sequence_id": 1234567890}
]"""


def test_parse_sms_report() -> None:
    delivered, failed = parse_report_body(REPORT.encode())
    assert delivered == DeliveryReport(
        phone="13900000001",
        biz_id="932702304080415357^0",
        success=True,
        err_code="DELIVERED",
        err_msg="用户接收成功",
        sms_size=2,
        send_time=datetime(2025, 3, 1, 8, 0, 1, tzinfo=SHANGHAI),
        report_time=datetime(2025, 3, 1, 8, 0, 4, tzinfo=SHANGHAI),
        out_id="notice-42",
    )
    assert (failed.success, failed.err_code, failed.out_id) == (False, "MK:0001", None)
    # China time: 08:00:04 in Shanghai is 00:00:04 UTC.
    assert delivered.report_time is not None
    assert (
        delivered.report_time.timestamp() == datetime.fromisoformat("2025-03-01T00:00:04+00:00").timestamp()
    )


def test_parse_sms_up() -> None:
    [reply] = parse_reply_body(REPLY)
    assert reply == Reply(
        phone="13900000001",
        content="1",
        send_time=datetime(2025, 3, 1, 8, 5, tzinfo=SHANGHAI),
        sign_name="洛阳一小",
        dest_code="07",
        sequence_id=1234567890,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "SmsReport: body is not valid JSON"),
        (b"\xff\xfe", "SmsReport: body is not valid JSON"),
        (b'{"phone_number": "13900000001"}', "expected a JSON array, got dict"),
        (b"[1]", r"SmsReport\[0\]: expected a JSON object"),
        (b'[{"success": true, "biz_id": "b"}]', r"SmsReport\[0\]\.phone_number: missing"),
        (b'[{"phone_number": "1", "success": true}]', r"SmsReport\[0\]\.biz_id: missing"),
        (b'[{"phone_number": "1", "biz_id": "b", "success": "yes"}]', r"\.success: expected true or false"),
        (
            b'[{"phone_number": ["1"], "biz_id": "b", "success": true}]',
            r"\.phone_number: expected a string, got list",
        ),
        (
            b'[{"phone_number": "1", "biz_id": "b", "success": true, "report_time": "01/03/2025"}]',
            r"\.report_time: expected 'YYYY-MM-DD HH:MM:SS'",
        ),
        (
            b'[{"phone_number": "1", "biz_id": "b", "success": true, "sms_size": "two"}]',
            r"\.sms_size: expected an integer",
        ),
    ],
)
def test_malformed_reports_raise_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(CallbackFormatError, match=message):
        parse_report_body(body)


def test_malformed_replies_name_the_item() -> None:
    good = json.loads(REPLY)[0]
    with pytest.raises(CallbackFormatError, match=r"SmsUp\[1\]\.sequence_id: expected an integer"):
        parse_reply_body(json.dumps([good, dict(good, sequence_id="x")]))
    with pytest.raises(CallbackFormatError, match=r"SmsUp\[0\]\.phone_number: missing"):
        parse_reply_body("[{}]")


def test_bodies_round_trip_through_the_builders() -> None:
    reports = parse_report_body(REPORT)
    replies = parse_reply_body(REPLY)
    assert parse_report_body(report_body(reports)) == reports
    assert parse_reply_body(reply_body(replies)) == replies


def test_every_provider_parses_the_aliyun_formats() -> None:
    provider = get_provider("memory")
    assert provider.parse_reports(REPORT) == parse_report_body(REPORT)
    assert provider.parse_replies(REPLY.encode()) == parse_reply_body(REPLY)
