"""Request validation and response shapes of the simulated Dysmsapi actions."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from sms_gateway.callbacks import format_aliyun_time
from sms_gateway.providers.base import SendStatus
from sms_gateway.segments import MessageLengthError, bracket_signature, measure
from sms_gateway.signing import signature_matches, string_to_sign

API_VERSION: Final = "2017-05-25"
SEND_SMS_MAX: Final = 1000
SEND_BATCH_SMS_MAX: Final = 100
QUERY_MAX_PAGE_SIZE: Final = 50
TIMESTAMP_TOLERANCE: Final = timedelta(minutes=15)
_NUMBER: Final = re.compile(r"1[3-9][0-9]{9}")
_SLOT: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_STATUS_CODE: Final = {SendStatus.PENDING: 1, SendStatus.FAILED: 2, SendStatus.DELIVERED: 3}


class ApiError(Exception):
    """An error answer: Aliyun's ``Code``/``Message`` with its HTTP status."""

    def __init__(self, code: str, message: str, http_status: int = 200) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.http_status = code, message, http_status


@dataclass(frozen=True, slots=True)
class Message:
    """One number of one accepted request, before the simulator gives it an id."""

    phone: str
    sign_name: str
    params: Mapping[str, str] = field(hash=False)
    extend_code: str | None


@dataclass(frozen=True, slots=True)
class SimulatedSend:
    """A message the simulator accepted (one per number)."""

    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    params: Mapping[str, str] = field(hash=False)
    content: str
    sms_size: int
    out_id: str | None
    extend_code: str | None
    received_at: datetime


@dataclass
class Delivery:
    """Mutable delivery state of a :class:`SimulatedSend`."""

    status: SendStatus = SendStatus.PENDING
    err_code: str = ""
    receive_time: datetime | None = None


def require(params: Mapping[str, str], key: str) -> str:
    """The non-empty value of ``key`` or Aliyun's MissingXxx error."""
    value = params.get(key, "")
    if not value:
        raise ApiError(f"Missing{key}", f"{key} is mandatory for this action.", 400)
    return value


def check_signature(
    method: str, params: Mapping[str, str], access_key_id: str, secret: str, now: datetime
) -> None:
    """Reject requests that are not signed the way the real gateway demands."""
    if params.get("AccessKeyId") != access_key_id:
        raise ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
        raise ApiError("IncompleteSignature", "SignatureMethod must be HMAC-SHA1, version 1.0", 400)
    try:
        stamp = datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ApiError("MissingTimestamp", "Timestamp is mandatory (ISO 8601 UTC).", 400) from None
    if abs(now - stamp.replace(tzinfo=UTC)) > TIMESTAMP_TOLERANCE:
        raise ApiError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
    if not signature_matches(method, params, secret):
        # Same message shape as Aliyun, which the SDK inspects (the part after ':').
        raise ApiError(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign is:"
            + string_to_sign(method, params),
            400,
        )


def template_params(raw: object, name: str) -> dict[str, str]:
    """A template-parameter object whose values are all strings, else INVALID_JSON_PARAM."""
    if raw is None or raw == "":
        return {}
    data = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ApiError("isv.INVALID_JSON_PARAM", f"{name}: JSON object of string values required")
    return {str(k): v for k, v in data.items()}


def _json_list(params: Mapping[str, str], key: str, *, required: bool = True) -> list[object]:
    raw = require(params, key) if required else params.get(key, "")
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError("isv.INVALID_JSON_PARAM", f"{key} is not valid JSON") from None
    if not isinstance(data, list):
        raise ApiError("isv.INVALID_JSON_PARAM", f"{key} must be a JSON array")
    return data


def send_sms_messages(params: Mapping[str, str]) -> list[Message]:
    """Validate a SendSms request and list its messages."""
    phones = require(params, "PhoneNumbers").split(",")
    sign = require(params, "SignName")
    require(params, "TemplateCode")
    if len(phones) > SEND_SMS_MAX:
        raise ApiError("isv.MOBILE_COUNT_OVER_LIMIT", f"at most {SEND_SMS_MAX} numbers per call")
    try:
        values = template_params(params.get("TemplateParam"), "TemplateParam")
    except ValueError:
        raise ApiError("isv.INVALID_JSON_PARAM", "TemplateParam is not valid JSON") from None
    extend = params.get("SmsUpExtendCode") or None
    return [Message(p.strip(), sign, values, extend) for p in phones]


def send_batch_sms_messages(params: Mapping[str, str]) -> list[Message]:
    """Validate a SendBatchSms request and list its messages."""
    require(params, "TemplateCode")
    phones = _json_list(params, "PhoneNumberJson")
    signs = _json_list(params, "SignNameJson")
    values = _json_list(params, "TemplateParamJson", required=False) or [{}] * len(phones)
    extends = _json_list(params, "SmsUpExtendCodeJson", required=False) or [None] * len(phones)
    if len(phones) > SEND_BATCH_SMS_MAX:
        raise ApiError("isv.MOBILE_COUNT_OVER_LIMIT", f"at most {SEND_BATCH_SMS_MAX} numbers per call")
    if not len(phones) == len(signs) == len(values) == len(extends):
        raise ApiError("isv.INVALID_PARAMETERS", "JSON arrays differ in length")
    if not all(isinstance(x, str) for x in [*phones, *signs]):
        raise ApiError("isv.INVALID_JSON_PARAM", "phone numbers and sign names must be strings")
    return [
        Message(str(p), str(s), template_params(v, "TemplateParamJson"), str(e) if e else None)
        for p, s, v, e in zip(phones, signs, values, extends, strict=True)
    ]


def check_numbers(messages: list[Message], rejected: Mapping[str, str]) -> None:
    """Aliyun rejects the whole call when any number is malformed (or scripted to fail)."""
    for message in messages:
        if not _NUMBER.fullmatch(message.phone):
            raise ApiError("isv.MOBILE_NUMBER_ILLEGAL", f"invalid mobile number {message.phone!r}")
        if message.phone in rejected:
            raise ApiError(rejected[message.phone], f"scripted rejection of {message.phone}")


def render(templates: Mapping[str, str], code: str, message: Message) -> tuple[str, int]:
    """Content and segment count of ``message`` (unknown templates show their params)."""
    text = templates.get(code)
    if text is None:
        body = f"[{code}]" + json.dumps(dict(message.params), ensure_ascii=False)
    else:
        body = _SLOT.sub(lambda m: message.params.get(m.group(1), ""), text)
    content = bracket_signature(message.sign_name) + body
    try:
        return content, measure(body, signature=message.sign_name).segments
    except MessageLengthError:
        return content, 1


def query_page(
    params: Mapping[str, str], sends: list[SimulatedSend], states: Mapping[tuple[str, str], Delivery]
) -> dict[str, object]:
    """The QuerySendDetails answer for ``sends`` (all to the queried phone)."""
    send_date = require(params, "SendDate")
    try:
        page_size = int(require(params, "PageSize"))
        page = int(require(params, "CurrentPage"))
    except ValueError:
        raise ApiError("isv.INVALID_PARAMETERS", "PageSize and CurrentPage must be integers") from None
    if not 1 <= page_size <= QUERY_MAX_PAGE_SIZE or page < 1:
        raise ApiError("isv.INVALID_PARAMETERS", f"PageSize must be 1-{QUERY_MAX_PAGE_SIZE}")
    biz_id = params.get("BizId")
    matches = [
        s
        for s in sends
        if s.received_at.strftime("%Y%m%d") == send_date and (not biz_id or s.biz_id == biz_id)
    ]
    dtos = []
    for s in matches[(page - 1) * page_size : page * page_size]:
        state = states.get((s.biz_id, s.phone), Delivery())
        dtos.append(
            {
                "PhoneNum": s.phone,
                "SendStatus": _STATUS_CODE[state.status],
                "ErrCode": state.err_code,
                "TemplateCode": s.template_code,
                "Content": s.content,
                "SendDate": format_aliyun_time(s.received_at),
                "ReceiveDate": format_aliyun_time(state.receive_time) if state.receive_time else "",
                "OutId": s.out_id or "",
            }
        )
    return {"TotalCount": len(matches), "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos}}
