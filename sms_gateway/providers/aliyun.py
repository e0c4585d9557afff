"""Aliyun SMS (Dysmsapi 2017-05-25) through aliyun-python-sdk-core's CommonRequest.

The SDK signs every call with the RPC signature (HMAC-SHA1 over the sorted, percent-
encoded parameters, key = secret + "&"). Business parameters travel in a POST form body
(1,000 numbers do not fit comfortably in a URL); the SDK signs body and query together.
The SDK's own retries are switched off: a blind retry of SendSms after a read timeout
could text every parent twice, so every failure is classified and handed to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, Final
from urllib.parse import urlsplit

from aliyunsdkcore.acs_exception.exceptions import (  # type: ignore[import-untyped,unused-ignore]
    ClientException,
    ServerException,
)
from aliyunsdkcore.client import AcsClient  # type: ignore[import-untyped,unused-ignore]
from aliyunsdkcore.request import CommonRequest  # type: ignore[import-untyped,unused-ignore]

from sms_gateway.callbacks import parse_aliyun_time
from sms_gateway.errors import (
    HALTING_CLASSES,
    AmbiguousError,
    ConfigurationError,
    ErrorClass,
    PermanentNumberError,
    RetryableError,
    SmsError,
    SmsFailure,
)
from sms_gateway.phones import InvalidPhoneNumber, normalize_phone
from sms_gateway.providers.aliyun_codes import classify
from sms_gateway.providers.base import (
    Recipient,
    SendRequest,
    SendResult,
    SendStatus,
    SmsProvider,
    StatusRecord,
    failed_results,
    prepare_recipients,
)

DEFAULT_ENDPOINT: Final = "dysmsapi.aliyuncs.com"
API_VERSION: Final = "2017-05-25"
SEND_SMS_MAX_NUMBERS: Final = 1000
SEND_BATCH_SMS_MAX_NUMBERS: Final = 100
QUERY_PAGE_SIZE: Final = 50
_SEND_STATUS: Final = {1: SendStatus.PENDING, 2: SendStatus.FAILED, 3: SendStatus.DELIVERED}
# Failures that happen before a single byte of the request reaches the server: safe to resend.
_NOT_SENT_MARKERS: Final = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "ConnectTimeoutError",
    "NameResolutionError",
    "Name or service not known",
)
_TLS_MARKERS: Final = ("SSLError", "CERTIFICATE_VERIFY_FAILED")


def _compact_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _chunks(items: Sequence[Recipient], size: int) -> Iterator[Sequence[Recipient]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def split_endpoint(endpoint: str, protocol: str | None = None) -> tuple[str, str]:
    """Split ``"http://127.0.0.1:8080"`` or ``"host:port"`` into (host[:port], protocol)."""
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        scheme, host = parts.scheme, parts.netloc
        if protocol is not None and protocol != scheme:
            raise ConfigurationError("ENDPOINT", f"endpoint {endpoint!r} contradicts protocol {protocol!r}")
    else:
        scheme, host = protocol or "https", endpoint
    if scheme not in ("http", "https") or not host:
        raise ConfigurationError("ENDPOINT", f"unusable endpoint {endpoint!r}")
    return host, scheme


def _network_error(exc: ClientException) -> SmsError:
    code, message = str(exc.get_error_code()), str(exc.get_error_msg())
    if code != "SDK.HttpError":
        return ConfigurationError(code, message)
    if any(marker in message for marker in _TLS_MARKERS):
        return ConfigurationError("TLS_ERROR", message)
    if any(marker in message for marker in _NOT_SENT_MARKERS):
        return RetryableError("CONNECT_ERROR", message)
    # Read timeout, reset or truncated response: the provider may have accepted the send.
    return AmbiguousError("NETWORK_TIMEOUT", message)


class AliyunProvider(SmsProvider):
    """Aliyun SMS. ``endpoint`` may be ``host[:port]`` or a URL with ``http(s)://``."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str = DEFAULT_ENDPOINT,
        protocol: str | None = None,
        region_id: str = "cn-hangzhou",
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        pool_size: int = 10,
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ConfigurationError("MISSING_CREDENTIALS", "access key id and secret are required")
        self.host, self.protocol = split_endpoint(endpoint, protocol)
        self._client: Any = AcsClient(
            access_key_id,
            access_key_secret,
            region_id,
            auto_retry=False,
            connect_timeout=connect_timeout,
            timeout=read_timeout,
            pool_size=pool_size,
        )

    def call(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        """Call one Dysmsapi action; return the JSON body when ``Code`` is ``OK``.

        Raises a classified :class:`~sms_gateway.errors.SmsError` otherwise.
        """
        request: Any = CommonRequest(domain=self.host, version=API_VERSION, action_name=action)
        request.set_method("POST")
        request.set_protocol_type(self.protocol)
        request.set_accept_format("json")
        for key, value in params.items():
            request.add_body_params(key, value)
        try:
            raw: bytes = self._client.do_action_with_exception(request)
        except ServerException as exc:
            status = int(exc.get_http_status() or 0)
            code, message = str(exc.get_error_code()), str(exc.get_error_msg())
            if status in (502, 504) and not code.startswith(("isp.", "isv.")):
                # A proxy gave up waiting: the API behind it may have accepted the send.
                raise AmbiguousError(f"HTTP_{status}", message) from None
            raise classify(code, message, http_status=status).to_exception() from None
        except ClientException as exc:
            raise _network_error(exc) from None
        except Exception as exc:
            # SDK internals can crash on odd answers (IndexError parsing a SignatureDoesNotMatch
            # message without ':'); the call may have gone through, so the caller must reconcile.
            raise AmbiguousError("SDK_ERROR", repr(exc)) from exc
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("Code"), str):
            # The request reached the API, the answer is unreadable: cannot know the outcome.
            raise AmbiguousError("MALFORMED_RESPONSE", repr(raw[:200]))
        if data["Code"] != "OK":
            raise classify(data["Code"], str(data.get("Message", ""))).to_exception()
        return data

    def _send_params(self, request: SendRequest, chunk: Sequence[Recipient]) -> tuple[str, dict[str, str]]:
        sign = request.bare_sign_name
        params = {"TemplateCode": request.template_code}
        if request.out_id:
            params["OutId"] = request.out_id
        if request.per_number_params is None:
            params["PhoneNumbers"] = ",".join(r.phone for r in chunk)
            params["SignName"] = sign
            if request.params:
                params["TemplateParam"] = _compact_json(dict(request.params))
            if request.extend_code:
                params["SmsUpExtendCode"] = request.extend_code
            return "SendSms", params
        params["PhoneNumberJson"] = _compact_json([r.phone for r in chunk])
        params["SignNameJson"] = _compact_json([sign] * len(chunk))
        params["TemplateParamJson"] = _compact_json([dict(r.params) for r in chunk])
        if request.extend_code:
            params["SmsUpExtendCodeJson"] = _compact_json([request.extend_code] * len(chunk))
        return "SendBatchSms", params

    def _send_chunk(self, request: SendRequest, chunk: Sequence[Recipient]) -> dict[int, SendResult]:
        action, params = self._send_params(request, chunk)
        try:
            data = self.call(action, params)
        except SmsError as exc:
            if exc.error_class is ErrorClass.PERMANENT_NUMBER and len(chunk) > 1:
                # Aliyun rejects the whole call for one bad number and does not say which;
                # nothing was sent, so halves can be retried to isolate it.
                middle = len(chunk) // 2
                return {
                    **self._send_chunk(request, chunk[:middle]),
                    **self._send_chunk(request, chunk[middle:]),
                }
            return failed_results(chunk, request, exc.failure)
        biz_id = str(data.get("BizId") or "") or None
        request_id = str(data.get("RequestId") or "") or None
        return {r.index: SendResult(request.phones[r.index], r.phone, biz_id, request_id) for r in chunk}

    def send_batch(self, request: SendRequest) -> list[SendResult]:
        """Send with SendSms (shared params, ≤1000 per call) or SendBatchSms (≤100 per call).

        After an account, configuration or rate-limit failure the remaining chunks are not
        attempted; their numbers get the same error class with a "not attempted" message.
        """
        recipients, results = prepare_recipients(request)
        size = SEND_SMS_MAX_NUMBERS if request.per_number_params is None else SEND_BATCH_SMS_MAX_NUMBERS
        halt: SmsFailure | None = None
        for chunk in _chunks(recipients, size):
            if halt is not None:
                results.update(failed_results(chunk, request, halt))
                continue
            chunk_results = self._send_chunk(request, chunk)
            results.update(chunk_results)
            for result in chunk_results.values():
                if result.failure is not None and result.failure.error_class in HALTING_CLASSES:
                    halt = replace(
                        result.failure,
                        message=f"not attempted after {result.failure.code}: {result.failure.message}",
                    )
                    break
        return [results[index] for index in range(len(request.phones))]

    def query_status(
        self, phone: str, biz_id: str | None, send_date: date, *, max_pages: int = 20
    ) -> list[StatusRecord]:
        """QuerySendDetails for ``phone`` on ``send_date``, all pages (up to ``max_pages``)."""
        try:
            number = normalize_phone(phone)
        except InvalidPhoneNumber as exc:
            raise PermanentNumberError("INVALID_NUMBER", str(exc)) from None
        records: list[StatusRecord] = []
        for page in range(1, max_pages + 1):
            params = {
                "PhoneNumber": number,
                "SendDate": send_date.strftime("%Y%m%d"),
                "PageSize": str(QUERY_PAGE_SIZE),
                "CurrentPage": str(page),
            }
            if biz_id:
                params["BizId"] = biz_id
            data = self.call("QuerySendDetails", params)
            page_records = parse_send_details(data)
            records.extend(page_records)
            total = int(data.get("TotalCount") or 0)
            if not page_records or len(records) >= total:
                break
        return records


def parse_send_details(data: Mapping[str, Any]) -> list[StatusRecord]:
    """Parse a QuerySendDetails JSON body into status records.

    Raises :class:`RetryableError` (a read: asking again is harmless) when malformed.
    """
    try:
        container = data.get("SmsSendDetailDTOs") or {}
        items = container.get("SmsSendDetailDTO") or []
        return [
            StatusRecord(
                phone=str(item["PhoneNum"]),
                status=_SEND_STATUS[int(item["SendStatus"])],
                err_code=str(item.get("ErrCode") or ""),
                template_code=str(item.get("TemplateCode") or ""),
                content=str(item.get("Content") or ""),
                send_time=parse_aliyun_time(item["SendDate"]) if item.get("SendDate") else None,
                receive_time=(parse_aliyun_time(item["ReceiveDate"]) if item.get("ReceiveDate") else None),
                out_id=str(item.get("OutId") or "") or None,
            )
            for item in items
        ]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise RetryableError("MALFORMED_RESPONSE", f"QuerySendDetails: {exc!r}") from None
