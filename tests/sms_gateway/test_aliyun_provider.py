from __future__ import annotations

import json
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from sms_gateway_fakes import KEY_ID, FakeDysmsapi

from sms_gateway.callbacks import SHANGHAI
from sms_gateway.errors import (
    AmbiguousError,
    ConfigurationError,
    ErrorClass,
    PermanentRequestError,
    RetryableError,
)
from sms_gateway.providers.aliyun import AliyunProvider, split_endpoint
from sms_gateway.providers.aliyun_codes import classify, seconds_until_tomorrow
from sms_gateway.providers.base import SendRequest, SendStatus

PARAMS = {"class": "三年级2班", "title": "春游"}


def numbers(count: int, start: int = 0) -> tuple[str, ...]:
    return tuple(f"139{n:08d}" for n in range(start, start + count))


def notice(phones: tuple[str, ...], **extra: str) -> SendRequest:
    return SendRequest(
        sign_name="【洛阳一小】", template_code="SMS_NOTICE", phones=phones, params=PARAMS, **extra
    )


def test_send_sms_request_parameters_and_signature(fake_dysmsapi: FakeDysmsapi) -> None:
    provider = fake_dysmsapi.provider()
    results = provider.send_batch(
        notice(("13800138000", "+86 139 0000 0001"), out_id="notice-42", extend_code="07")
    )

    [call] = fake_dysmsapi.calls
    assert call.signature_ok, "HMAC-SHA1 signature over the sorted, encoded params"
    assert call.method == "POST"
    assert call.content_type.startswith("application/x-www-form-urlencoded")
    params = call.params
    assert params["Action"] == "SendSms"
    assert params["Version"] == "2017-05-25"
    assert params["Format"] == "JSON"
    assert params["SignatureMethod"] == "HMAC-SHA1"
    assert params["SignatureVersion"] == "1.0"
    assert params["AccessKeyId"] == KEY_ID
    assert params["RegionId"] == "cn-hangzhou"
    assert params["SignatureNonce"]
    assert params["Timestamp"].endswith("Z")
    assert params["PhoneNumbers"] == "13800138000,13900000001"
    assert params["SignName"] == "洛阳一小"  # Aliyun wants the signature without 【】
    assert params["TemplateCode"] == "SMS_NOTICE"
    assert json.loads(params["TemplateParam"]) == PARAMS
    assert params["OutId"] == "notice-42"
    assert params["SmsUpExtendCode"] == "07"
    # Business parameters travel in the body, the signing envelope in the query.
    assert "PhoneNumbers" in call.body
    assert "Signature" in call.query

    assert [(r.phone, r.normalized_phone, r.accepted, r.biz_id, r.request_id) for r in results] == [
        ("13800138000", "13800138000", True, "BIZ-1", "REQ-1"),
        ("+86 139 0000 0001", "13900000001", True, "BIZ-1", "REQ-1"),
    ]


def test_wrong_secret_fails_signature_check_as_configuration(fake_dysmsapi: FakeDysmsapi) -> None:
    provider = AliyunProvider(access_key_id=KEY_ID, access_key_secret="wrong", endpoint=fake_dysmsapi.url)
    [result] = provider.send_batch(notice(("13800138000",)))
    assert not fake_dysmsapi.calls[0].signature_ok
    assert result.error_class is ErrorClass.CONFIGURATION
    assert result.failure is not None
    assert result.failure.code == "SignatureDoesNotMatch"


def test_sdk_crash_on_an_odd_answer_is_ambiguous_not_an_exception(fake_dysmsapi: FakeDysmsapi) -> None:
    fake_dysmsapi.answer_code("SignatureDoesNotMatch", "no colon here", status=400)
    [result] = fake_dysmsapi.provider().send_batch(notice(numbers(1)))
    assert result.error_class is ErrorClass.AMBIGUOUS
    assert result.failure is not None
    assert result.failure.code == "SDK_ERROR"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", 200, ErrorClass.DEFERRED),
        ("isv.DAY_LIMIT_CONTROL", 200, ErrorClass.DEFERRED),
        ("isv.AMOUNT_NOT_ENOUGH", 200, ErrorClass.ACCOUNT_HALT),
        ("isv.OUT_OF_SERVICE", 200, ErrorClass.ACCOUNT_HALT),
        ("isv.ACCOUNT_ABNORMAL", 200, ErrorClass.ACCOUNT_HALT),
        ("isv.ACCOUNT_NOT_EXISTS", 200, ErrorClass.ACCOUNT_HALT),
        ("isv.MOBILE_COUNT_OVER_LIMIT", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.BLACK_KEY_CONTROL_LIMIT", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.TEMPLATE_PARAMS_ILLEGAL", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.PARAM_LENGTH_LIMIT", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.INVALID_PARAMETERS", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.TEMPLATE_MISSING_PARAMETERS", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.INVALID_JSON_PARAM", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.SOMETHING_NEW", 200, ErrorClass.PERMANENT_REQUEST),
        ("isv.SMS_TEMPLATE_ILLEGAL", 200, ErrorClass.CONFIGURATION),
        ("isv.SMS_SIGNATURE_ILLEGAL", 200, ErrorClass.CONFIGURATION),
        ("SignatureDoesNotMatch", 400, ErrorClass.CONFIGURATION),
        ("InvalidAccessKeyId.NotFound", 404, ErrorClass.CONFIGURATION),
        ("isp.RAM_PERMISSION_DENY", 200, ErrorClass.CONFIGURATION),
        ("Throttling.User", 400, ErrorClass.RETRYABLE),
        ("isp.SYSTEM_ERROR", 200, ErrorClass.RETRYABLE),
        ("ServiceUnavailable", 503, ErrorClass.RETRYABLE),
        ("InternalError", 500, ErrorClass.RETRYABLE),
    ],
)
def test_error_codes_are_classified(
    fake_dysmsapi: FakeDysmsapi, code: str, status: int, expected: ErrorClass
) -> None:
    fake_dysmsapi.answer_code(code, "触发分钟级流控Permits:1", status=status)
    results = fake_dysmsapi.provider().send_batch(notice(numbers(2)))
    assert [r.error_class for r in results] == [expected, expected]
    assert {r.failure.code for r in results if r.failure} == {code}
    assert all(r.biz_id is None for r in results)
    if expected is ErrorClass.DEFERRED:
        assert all(r.failure and r.failure.retry_after for r in results)


def test_mobile_number_illegal_is_isolated_to_the_bad_number(fake_dysmsapi: FakeDysmsapi) -> None:
    """Aliyun rejects a whole call for one bad number: the provider halves until it is found."""
    phones = numbers(4)
    fake_dysmsapi.answer_code("isv.MOBILE_NUMBER_ILLEGAL")  # all four
    fake_dysmsapi.answer(200, {"Code": "OK", "BizId": "B-12", "RequestId": "R"})  # first half
    fake_dysmsapi.answer_code("isv.MOBILE_NUMBER_ILLEGAL")  # second half
    fake_dysmsapi.answer(200, {"Code": "OK", "BizId": "B-3", "RequestId": "R"})  # third
    fake_dysmsapi.answer_code("isv.MOBILE_NUMBER_ILLEGAL")  # fourth
    results = fake_dysmsapi.provider().send_batch(notice(phones))
    assert [c.params["PhoneNumbers"].count(",") + 1 for c in fake_dysmsapi.calls] == [4, 2, 2, 1, 1]
    assert [(r.biz_id, r.error_class) for r in results] == [
        ("B-12", None),
        ("B-12", None),
        ("B-3", None),
        (None, ErrorClass.PERMANENT_NUMBER),
    ]


def test_retry_after_follows_the_limit_window() -> None:
    assert classify("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1").retry_after == 60
    assert classify("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5").retry_after == 3600
    evening = datetime(2025, 3, 1, 23, 30, tzinfo=SHANGHAI)
    assert classify("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", now=evening).retry_after == 1800
    assert classify("isv.DAY_LIMIT_CONTROL", "触发日发送限额", now=evening).retry_after == 1800
    # 07:30 UTC is 15:30 in China: 8.5 hours to China's midnight.
    assert seconds_until_tomorrow(datetime(2025, 3, 1, 7, 30, tzinfo=UTC)) == 8.5 * 3600


def test_http_errors_without_an_aliyun_body(fake_dysmsapi: FakeDysmsapi) -> None:
    fake_dysmsapi.answer(500, b"<html>boom</html>")
    fake_dysmsapi.answer(504, b"<html>gateway timeout</html>")
    fake_dysmsapi.answer(200, b"not json")
    provider = fake_dysmsapi.provider()
    assert provider.send_batch(notice(numbers(1)))[0].error_class is ErrorClass.RETRYABLE
    # A proxy that timed out cannot know whether the API behind it accepted the send.
    assert provider.send_batch(notice(numbers(1)))[0].error_class is ErrorClass.AMBIGUOUS
    assert provider.send_batch(notice(numbers(1)))[0].error_class is ErrorClass.AMBIGUOUS


def test_read_timeout_is_ambiguous_and_never_retried(fake_dysmsapi: FakeDysmsapi) -> None:
    fake_dysmsapi.answer(200, {"Code": "OK", "BizId": "late"}, delay=1.0)
    results = fake_dysmsapi.provider(read_timeout=0.2).send_batch(notice(numbers(3)))
    assert [r.error_class for r in results] == [ErrorClass.AMBIGUOUS] * 3
    assert results[0].failure is not None
    assert results[0].failure.code == "NETWORK_TIMEOUT"
    assert len(fake_dysmsapi.calls) == 1  # the SDK's own retry would have sent it twice


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = AliyunProvider(
        access_key_id=KEY_ID, access_key_secret="s", endpoint=f"http://127.0.0.1:{port}", connect_timeout=1
    )
    [result] = provider.send_batch(notice(numbers(1)))
    assert result.error_class is ErrorClass.RETRYABLE
    assert result.failure is not None
    assert result.failure.code == "CONNECT_ERROR"


def test_large_batches_are_chunked_at_1000(fake_dysmsapi: FakeDysmsapi) -> None:
    results = fake_dysmsapi.provider().send_batch(notice(numbers(2500)))
    sizes = [len(c.params["PhoneNumbers"].split(",")) for c in fake_dysmsapi.calls]
    assert sizes == [1000, 1000, 500]
    assert all(c.action == "SendSms" and c.signature_ok for c in fake_dysmsapi.calls)
    sent = [p for c in fake_dysmsapi.calls for p in c.params["PhoneNumbers"].split(",")]
    assert sent == list(numbers(2500))
    assert [r.biz_id for r in results[999:1001]] == ["BIZ-1", "BIZ-2"]
    assert all(r.accepted for r in results)


def test_account_halt_stops_the_remaining_chunks(fake_dysmsapi: FakeDysmsapi) -> None:
    fake_dysmsapi.answer_code("isv.AMOUNT_NOT_ENOUGH", "账户余额不足")
    results = fake_dysmsapi.provider().send_batch(notice(numbers(2500)))
    assert len(fake_dysmsapi.calls) == 1
    assert {r.error_class for r in results} == {ErrorClass.ACCOUNT_HALT}
    assert results[-1].failure is not None
    assert results[-1].failure.message.startswith("not attempted")


def test_invalid_and_duplicate_numbers_are_refused_locally(fake_dysmsapi: FakeDysmsapi) -> None:
    results = fake_dysmsapi.provider().send_batch(notice(("13800138000", "12345", "+8613800138000")))
    assert fake_dysmsapi.calls[0].params["PhoneNumbers"] == "13800138000"
    assert [(r.accepted, r.failure.code if r.failure else None) for r in results] == [
        (True, None),
        (False, "INVALID_NUMBER"),
        (False, "DUPLICATE_NUMBER"),
    ]
    assert results[1].error_class is ErrorClass.PERMANENT_NUMBER


def test_per_number_params_use_send_batch_sms_in_chunks_of_100(fake_dysmsapi: FakeDysmsapi) -> None:
    phones = numbers(150)
    request = SendRequest.personalised(
        "洛阳一小",
        "SMS_NOTICE",
        {p: {"class": f"班{i}", "title": "春游"} for i, p in enumerate(phones)},
        extend_code="9",
    )
    results = fake_dysmsapi.provider().send_batch(request)
    first, second = fake_dysmsapi.calls
    assert (first.action, second.action) == ("SendBatchSms", "SendBatchSms")
    assert first.signature_ok
    assert second.signature_ok
    assert json.loads(first.params["PhoneNumberJson"]) == list(phones[:100])
    assert json.loads(second.params["PhoneNumberJson"]) == list(phones[100:])
    assert json.loads(first.params["SignNameJson"]) == ["洛阳一小"] * 100
    assert json.loads(second.params["TemplateParamJson"])[0] == {"class": "班100", "title": "春游"}
    assert json.loads(second.params["SmsUpExtendCodeJson"]) == ["9"] * 50
    assert "PhoneNumbers" not in first.params
    assert [r.biz_id for r in (results[0], results[100])] == ["BIZ-1", "BIZ-2"]


QUERY_ANSWER = {
    "Code": "OK",
    "Message": "OK",
    "RequestId": "Q-1",
    "TotalCount": 2,
    "SmsSendDetailDTOs": {
        "SmsSendDetailDTO": [
            {
                "PhoneNum": "13800138000",
                "SendStatus": 3,
                "ErrCode": "DELIVERED",
                "TemplateCode": "SMS_NOTICE",
                "Content": "【洛阳一小】三年级2班有新通知《春游》，回复1确认",
                "SendDate": "2025-03-01 08:00:01",
                "ReceiveDate": "2025-03-01 08:00:04",
                "OutId": "notice-42",
            },
            {
                "PhoneNum": "13800138000",
                "SendStatus": 2,
                "ErrCode": "MK:0001",
                "TemplateCode": "SMS_NOTICE",
                "Content": "x",
                "SendDate": "2025-03-01 09:00:00",
                "ReceiveDate": "",
            },
        ]
    },
}


def test_query_send_details(fake_dysmsapi: FakeDysmsapi) -> None:
    fake_dysmsapi.answer(200, QUERY_ANSWER)
    records = fake_dysmsapi.provider().query_status("+86 13800138000", "BIZ-9", date(2025, 3, 1))
    [call] = fake_dysmsapi.calls
    assert call.signature_ok
    assert {
        k: call.params[k] for k in ("Action", "PhoneNumber", "BizId", "SendDate", "PageSize", "CurrentPage")
    } == {
        "Action": "QuerySendDetails",
        "PhoneNumber": "13800138000",
        "BizId": "BIZ-9",
        "SendDate": "20250301",
        "PageSize": "50",
        "CurrentPage": "1",
    }
    delivered, failed = records
    assert delivered.status is SendStatus.DELIVERED
    assert failed.status is SendStatus.FAILED
    assert delivered.receive_time == datetime(2025, 3, 1, 8, 0, 4, tzinfo=SHANGHAI)
    assert delivered.receive_time is not None
    assert delivered.receive_time.utcoffset() == timedelta(hours=8)
    assert (delivered.out_id, failed.out_id, failed.receive_time, failed.err_code) == (
        "notice-42",
        None,
        None,
        "MK:0001",
    )


def test_query_pages_until_total_count(fake_dysmsapi: FakeDysmsapi) -> None:
    page = dict(QUERY_ANSWER, TotalCount=3)
    fake_dysmsapi.answer(200, page)
    fake_dysmsapi.answer(
        200,
        dict(
            page,
            SmsSendDetailDTOs={"SmsSendDetailDTO": QUERY_ANSWER["SmsSendDetailDTOs"]["SmsSendDetailDTO"][:1]},
        ),
    )  # type: ignore[index]
    records = fake_dysmsapi.provider().query_status("13800138000", None, date(2025, 3, 1))
    assert len(records) == 3
    assert [c.params["CurrentPage"] for c in fake_dysmsapi.calls] == ["1", "2"]
    assert "BizId" not in fake_dysmsapi.calls[0].params


def test_query_errors_raise_classified_exceptions(fake_dysmsapi: FakeDysmsapi) -> None:
    provider = fake_dysmsapi.provider()
    fake_dysmsapi.answer_code("isv.INVALID_PARAMETERS")
    with pytest.raises(PermanentRequestError):
        provider.query_status("13800138000", None, date(2025, 3, 1))
    fake_dysmsapi.answer(
        200, {"Code": "OK", "TotalCount": 1, "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{"x": 1}]}}
    )
    with pytest.raises(RetryableError, match="MALFORMED_RESPONSE"):
        provider.query_status("13800138000", None, date(2025, 3, 1))
    fake_dysmsapi.answer(200, {"Code": "OK"}, delay=1.0)
    with pytest.raises(AmbiguousError):
        fake_dysmsapi.provider(read_timeout=0.2).query_status("13800138000", None, date(2025, 3, 1))


@pytest.mark.parametrize(
    ("endpoint", "protocol", "expected"),
    [
        ("dysmsapi.aliyuncs.com", None, ("dysmsapi.aliyuncs.com", "https")),
        ("http://127.0.0.1:8900", None, ("127.0.0.1:8900", "http")),
        ("127.0.0.1:8900", "http", ("127.0.0.1:8900", "http")),
        ("https://dysmsapi.aliyuncs.com", "https", ("dysmsapi.aliyuncs.com", "https")),
    ],
)
def test_split_endpoint(endpoint: str, protocol: str | None, expected: tuple[str, str]) -> None:
    assert split_endpoint(endpoint, protocol) == expected


def test_bad_configuration_is_refused_up_front() -> None:
    with pytest.raises(ConfigurationError, match="contradicts"):
        split_endpoint("http://127.0.0.1:1", "https")
    with pytest.raises(ConfigurationError, match="unusable"):
        split_endpoint("ftp://example", None)
    with pytest.raises(ConfigurationError) as excinfo:
        AliyunProvider(access_key_id="", access_key_secret="x")
    assert excinfo.value.code == "MISSING_CREDENTIALS"
