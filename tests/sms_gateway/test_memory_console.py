from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest

from sms_gateway.callbacks import SHANGHAI
from sms_gateway.errors import ConfigurationError, ErrorClass, PermanentRequestError
from sms_gateway.providers import get_provider
from sms_gateway.providers.base import SendRequest, SendStatus
from sms_gateway.providers.console import ConsoleProvider
from sms_gateway.providers.memory import MemoryProvider
from sms_gateway.templates import Template

TEMPLATE = Template("SMS_NOTICE", "${class}有新通知《${title}》，回复1确认")
PARAMS = {"class": "三年级2班", "title": "春游"}


def request(*phones: str) -> SendRequest:
    return SendRequest(
        sign_name="洛阳一小", template_code="SMS_NOTICE", phones=phones, params=PARAMS, out_id="n-1"
    )


def today() -> date:
    return datetime.now(SHANGHAI).date()


def test_memory_outbox_holds_rendered_accepted_messages() -> None:
    memory = MemoryProvider(templates={"SMS_NOTICE": TEMPLATE})
    results = memory.send_batch(request("+86 139 0000 0001", "139 0000 0002", "bad"))
    assert [r.accepted for r in results] == [True, True, False]
    assert [m.phone for m in memory.outbox] == ["13900000001", "13900000002"]
    assert memory.outbox[0].text == "【洛阳一小】三年级2班有新通知《春游》，回复1确认"
    assert {m.biz_id for m in memory.outbox} == {results[0].biz_id}
    assert memory.outbox[0].out_id == "n-1"


def test_memory_scripted_number_failure() -> None:
    memory = MemoryProvider()
    memory.fail_number("13900000002", ErrorClass.DEFERRED, code="isv.BUSINESS_LIMIT_CONTROL", retry_after=60)
    ok, deferred = memory.send_batch(request("13900000001", "13900000002"))
    assert ok.accepted
    assert deferred.error_class is ErrorClass.DEFERRED
    assert deferred.failure is not None
    assert deferred.failure.retry_after == 60
    assert [m.phone for m in memory.outbox] == ["13900000001"]
    memory.clear_failures()
    assert memory.send_batch(request("13900000002"))[0].accepted


def test_memory_ambiguous_once_then_reconcile_by_query() -> None:
    memory = MemoryProvider()
    memory.ambiguous_once()
    [lost] = memory.send_batch(request("13900000001"))
    assert lost.error_class is ErrorClass.AMBIGUOUS
    # The request did reach the provider: a status query finds it, so the caller must not resend.
    [record] = memory.query_status("+8613900000001", None, today())
    assert record.status is SendStatus.DELIVERED
    assert memory.query_status("13900000001", None, today() - timedelta(days=1)) == []
    # Only once.
    assert memory.send_batch(request("13900000001"))[0].accepted


def test_memory_ambiguous_when_nothing_was_sent() -> None:
    memory = MemoryProvider()
    memory.ambiguous_once(actually_sent=False)
    [lost] = memory.send_batch(request("13900000001"))
    assert lost.error_class is ErrorClass.AMBIGUOUS
    assert memory.outbox == []
    assert memory.query_status("13900000001", None, today()) == []


def test_memory_builds_webhook_bodies_for_backend_tests() -> None:
    memory = MemoryProvider()
    memory.send_batch(request("13900000001", "13900000002"))
    reports = memory.parse_reports(memory.report_webhook_body(failed={"13900000002": "MK:0001"}))
    assert [(r.phone, r.success, r.err_code) for r in reports] == [
        ("13900000001", True, "DELIVERED"),
        ("13900000002", False, "MK:0001"),
    ]
    reply = memory.make_reply("13900000001", "TD", dest_code="07")
    assert (reply.content, reply.dest_code) == ("TD", "07")


def test_console_prints_each_message() -> None:
    stream = io.StringIO()
    console = ConsoleProvider(stream=stream, templates={"SMS_NOTICE": TEMPLATE})
    console.send_batch(request("13900000001", "13900000002"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[sms] to 13900000001 (")
    assert lines[0].endswith("【洛阳一小】三年级2班有新通知《春游》，回复1确认")
    assert len(console.outbox) == 2


def test_registry() -> None:
    assert isinstance(get_provider("memory"), MemoryProvider)
    assert isinstance(get_provider("console", stream=io.StringIO()), ConsoleProvider)
    assert get_provider("simulator").name == "aliyun"
    with pytest.raises(ConfigurationError, match="unknown SMS provider 'twilio'"):
        get_provider("twilio")
    with pytest.raises(ConfigurationError, match="MISSING_CREDENTIALS|access key"):
        get_provider("aliyun", access_key_id="", access_key_secret="")
    with pytest.raises(ConfigurationError) as excinfo:
        get_provider("memory", colour="blue")
    assert excinfo.value.code == "PROVIDER_OPTIONS"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"phones": (), "params": {}}, "EMPTY_REQUEST"),
        ({"phones": ("13900000001",)}, "PARAMS_AMBIGUOUS"),
        ({"phones": ("13900000001",), "params": {}, "per_number_params": ({},)}, "PARAMS_AMBIGUOUS"),
        ({"phones": ("13900000001",), "per_number_params": ({}, {})}, "PARAMS_MISMATCH"),
        ({"phones": ("13900000001",), "params": {}, "sign_name": "【】"}, "MISSING_SIGN_NAME"),
    ],
)
def test_send_request_validation(kwargs: dict[str, object], code: str) -> None:
    arguments: dict[str, object] = {"sign_name": "学校", "template_code": "SMS_1", **kwargs}
    with pytest.raises(PermanentRequestError) as excinfo:
        SendRequest(**arguments)  # type: ignore[arg-type]
    assert excinfo.value.code == code


def test_send_request_stores_tuples() -> None:
    req = SendRequest(sign_name="学校", template_code="SMS_1", phones=["13900000001"], params={})  # type: ignore[arg-type]
    assert req.phones == ("13900000001",)
    assert req.bare_sign_name == "学校"
