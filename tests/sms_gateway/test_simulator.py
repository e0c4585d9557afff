from __future__ import annotations

import time
from datetime import datetime

import pytest
from sms_gateway_fakes import CallbackReceiver

from sms_gateway.callbacks import SHANGHAI, parse_reply_body, parse_report_body
from sms_gateway.errors import ErrorClass
from sms_gateway.providers import get_provider
from sms_gateway.providers.aliyun import AliyunProvider
from sms_gateway.providers.base import SendRequest, SendStatus
from sms_gateway.signing import rpc_signature
from sms_gateway.simulator import DysmsapiSimulator

PARAMS = {"class": "三年级2班", "title": "春游"}


def provider_for(sim: DysmsapiSimulator, **options: object) -> AliyunProvider:
    provider = get_provider("simulator", endpoint=sim.url, **options)
    assert isinstance(provider, AliyunProvider)
    return provider


def notice(phones: list[str], **extra: str) -> SendRequest:
    return SendRequest(
        sign_name="洛阳一小", template_code="SMS_NOTICE", phones=tuple(phones), params=PARAMS, **extra
    )


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"139{n:08d}" for n in range(start, start + count)]


def reports(receiver: CallbackReceiver) -> list:  # type: ignore[type-arg]
    return [r for body in receiver.bodies.get("/report", []) for r in parse_report_body(body)]


def test_end_to_end_send_report_reply_and_query(
    simulator: DysmsapiSimulator, callback_receiver: CallbackReceiver
) -> None:
    provider = provider_for(simulator)
    simulator.script_reply("13900000001", "1")
    simulator.fail_delivery("13900000002", "MK:0001")
    results = provider.send_batch(notice(numbers(3), out_id="notice-42", extend_code="07"))

    assert all(r.accepted for r in results)
    [biz_id] = {r.biz_id for r in results}
    sends = simulator.sends
    assert [s.phone for s in sends] == numbers(3)
    assert sends[0].content == "【洛阳一小】三年级2班有新通知《春游》，回复1确认"
    assert (sends[0].biz_id, sends[0].out_id, sends[0].extend_code) == (biz_id, "notice-42", "07")

    assert simulator.wait_for_callbacks(5)
    by_phone = {r.phone: r for r in reports(callback_receiver)}
    assert set(by_phone) == set(numbers(3))
    assert (by_phone["13900000000"].success, by_phone["13900000000"].biz_id) == (True, biz_id)
    assert (by_phone["13900000002"].success, by_phone["13900000002"].err_code) == (False, "MK:0001")
    assert by_phone["13900000000"].out_id == "notice-42"

    [reply] = [r for body in callback_receiver.bodies["/reply"] for r in parse_reply_body(body)]
    assert (reply.phone, reply.content, reply.dest_code, reply.sign_name) == (
        "13900000001",
        "1",
        "07",
        "洛阳一小",
    )

    today = datetime.now(SHANGHAI).date()
    [delivered] = provider.query_status("13900000000", biz_id, today)
    [failed] = provider.query_status("13900000002", None, today)
    assert (delivered.status, delivered.content) == (SendStatus.DELIVERED, sends[0].content)
    assert (failed.status, failed.err_code) == (SendStatus.FAILED, "MK:0001")


def test_per_number_params_through_send_batch_sms(simulator: DysmsapiSimulator) -> None:
    request = SendRequest.personalised(
        "洛阳一小",
        "SMS_NOTICE",
        {"13900000001": {"class": "一班", "title": "甲"}, "13900000002": {"class": "二班", "title": "乙"}},
    )
    results = provider_for(simulator).send_batch(request)
    assert all(r.accepted for r in results)
    assert simulator.requests["SendBatchSms"] == 1
    assert [s.content for s in simulator.sends] == [
        "【洛阳一小】一班有新通知《甲》，回复1确认",
        "【洛阳一小】二班有新通知《乙》，回复1确认",
    ]


def test_rate_limit_defers_with_retry_after(simulator: DysmsapiSimulator) -> None:
    simulator.rate_limit = 1500  # numbers per second
    results = provider_for(simulator).send_batch(notice(numbers(2500)))
    assert [r.accepted for r in results[:1000]] == [True] * 1000
    deferred = results[1000:]
    assert {r.error_class for r in deferred} == {ErrorClass.DEFERRED}
    assert {r.failure.retry_after for r in deferred if r.failure} == {1.0}
    assert simulator.requests["SendSms"] == 2  # the third chunk is not attempted after a deferral
    assert len(simulator.sends) == 1000


def test_timeout_is_ambiguous_and_reconciliation_finds_the_send(simulator: DysmsapiSimulator) -> None:
    simulator.stall_next(1.0)
    impatient = provider_for(simulator, read_timeout=0.2)
    results = impatient.send_batch(notice(numbers(2)))
    assert {r.error_class for r in results} == {ErrorClass.AMBIGUOUS}
    # The simulator did accept them; the caller reconciles by query instead of resending.
    [record] = provider_for(simulator).query_status("13900000000", None, datetime.now(SHANGHAI).date())
    assert record.phone == "13900000000"
    assert simulator.send_counts() == {"13900000000": 1, "13900000001": 1}


def test_rejected_number_is_isolated_and_others_sent_exactly_once(simulator: DysmsapiSimulator) -> None:
    simulator.reject_number("13900000005")
    results = provider_for(simulator).send_batch(notice(numbers(8)))
    assert [r.phone for r in results if not r.accepted] == ["13900000005"]
    assert results[5].error_class is ErrorClass.PERMANENT_NUMBER
    counts = simulator.send_counts()
    assert set(counts) == set(numbers(8)) - {"13900000005"}
    assert set(counts.values()) == {1}


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("isv.AMOUNT_NOT_ENOUGH", 200, ErrorClass.ACCOUNT_HALT),
        ("ServiceUnavailable", 503, ErrorClass.RETRYABLE),
        ("isv.SMS_TEMPLATE_ILLEGAL", 200, ErrorClass.CONFIGURATION),
    ],
)
def test_scripted_failures(
    simulator: DysmsapiSimulator, code: str, status: int, expected: ErrorClass
) -> None:
    simulator.fail_next(code, http_status=status)
    provider = provider_for(simulator)
    assert provider.send_batch(notice(numbers(1)))[0].error_class is expected
    assert provider.send_batch(notice(numbers(1)))[0].accepted  # only the next call
    assert len(simulator.sends) == 1


def test_error_rate_answers_system_errors(simulator: DysmsapiSimulator) -> None:
    simulator.error_rate = 1.0
    [result] = provider_for(simulator).send_batch(notice(numbers(1)))
    assert result.error_class is ErrorClass.RETRYABLE
    assert result.failure is not None
    assert result.failure.code == "isp.SYSTEM_ERROR"
    assert simulator.sends == []


def test_signature_and_credentials_are_checked(simulator: DysmsapiSimulator) -> None:
    wrong_secret = provider_for(simulator, access_key_secret="guess")
    wrong_key = provider_for(simulator, access_key_id="nobody")
    [bad_signature] = wrong_secret.send_batch(notice(numbers(1)))
    [bad_key] = wrong_key.send_batch(notice(numbers(1)))
    assert bad_signature.error_class is ErrorClass.CONFIGURATION
    assert bad_signature.failure is not None
    assert bad_signature.failure.code in ("SignatureDoesNotMatch", "InvalidAccessKeySecret")
    assert bad_key.failure is not None
    assert bad_key.failure.code == "InvalidAccessKeyId.NotFound"
    assert simulator.sends == []


def test_nonce_replay_is_refused() -> None:
    with DysmsapiSimulator() as sim:
        params = {
            "AccessKeyId": "simulator",
            "Action": "QuerySendDetails",
            "Version": "2017-05-25",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": "n-1",
            "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "PhoneNumber": "13900000000",
            "SendDate": "20250301",
            "PageSize": "10",
            "CurrentPage": "1",
        }
        params["Signature"] = rpc_signature("GET", params, "simulator-secret")
        first = sim.handle("GET", params)
        second = sim.handle("GET", params)
    assert first[0] == 200
    assert (second[0], second[1]["Code"]) == (400, "SignatureNonceUsed")


def test_throughput_smoke(simulator: DysmsapiSimulator, callback_receiver: CallbackReceiver) -> None:
    """5,000 numbers in 1,000-number SendSms calls, every one recorded and reported once."""
    phones = numbers(5000)
    started = time.perf_counter()
    results = provider_for(simulator).send_batch(notice(phones))
    elapsed = time.perf_counter() - started
    assert all(r.accepted for r in results)
    assert simulator.requests["SendSms"] == 5
    counts = simulator.send_counts()
    assert len(counts) == 5000
    assert set(counts.values()) == {1}
    assert simulator.wait_for_callbacks(10)
    assert sorted(r.phone for r in reports(callback_receiver)) == phones
    print(f"simulator throughput: {5000 / elapsed:,.0f} numbers/s")
