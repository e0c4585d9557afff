"""Provider webhooks: delivery reports (SmsReport) and replies (SmsUp).

They come from the provider, not a user: authenticated by a shared secret token (the
`token` query parameter or the X-Callback-Token header, compared in constant time) and
an optional IP allowlist. Refused calls write nothing."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.errors import ApiError
from backend.conventions.schema import error_responses
from backend.sms.providers import outgoing_provider, provider_names
from backend.sms.services import sms_replies_record, sms_reports_record
from sms_gateway.errors import CallbackFormatError
from sms_gateway.providers.base import SmsProvider

from .serializers import CallbackAckOutput

logger = logging.getLogger(__name__)

# What Aliyun expects back; anything else makes it push the same batch again.
ACK = {"code": 0, "msg": "成功"}
_AUTH = (
    "Authenticate with `?token=` or the `X-Callback-Token` header (settings.SMS_CALLBACK_TOKEN); "
    "settings.SMS_CALLBACK_IPS optionally restricts the source addresses.\n\nErrors: "
    "`ip_not_allowed` (403), `callback_not_configured` (403), `callback_unauthenticated` (401), "
    "`not_found` (404, another provider), `callback_malformed` (400)."
)


def _ip_allowed(request: Request) -> bool:
    allowed = list(getattr(settings, "SMS_CALLBACK_IPS", []) or [])
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowed)


def _authenticate(request: Request, provider: str) -> SmsProvider:
    if not _ip_allowed(request):
        raise ApiError("ip_not_allowed", "来源地址不在白名单内", status_code=403)
    expected = str(getattr(settings, "SMS_CALLBACK_TOKEN", "") or "")
    if not expected:
        raise ApiError("callback_not_configured", "未配置回调令牌", status_code=403)
    given = request.query_params.get("token") or request.headers.get("X-Callback-Token") or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError("callback_unauthenticated", "回调令牌无效", status_code=401)
    if provider not in provider_names():
        raise ApiError("not_found", "未知的短信通道", status_code=404)
    return outgoing_provider()


class _CallbackView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


_PARAMS = [
    OpenApiParameter(
        "provider", str, OpenApiParameter.PATH, description="aliyun / simulator / memory / console"
    ),
    OpenApiParameter("token", str, OpenApiParameter.QUERY, required=False),
]


class ReportCallbackView(_CallbackView):
    @extend_schema(
        operation_id="sms_callbacks_report",
        summary="短信状态报告回调 / Delivery-report webhook (SmsReport)",
        description=(
            "A JSON array of Aliyun SmsReport items. Delivered texts are charged, failed ones "
            'refunded; repeated reports are ignored. Answers `{"code": 0, "msg": "成功"}`.\n\n' + _AUTH
        ),
        parameters=_PARAMS,
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses={
            200: CallbackAckOutput,
            **error_responses(
                "400 callback_malformed",
                "401 callback_unauthenticated",
                "403 ip_not_allowed callback_not_configured",
                "404 not_found",
            ),
        },
        tags=["sms-callbacks"],
        auth=[],
    )
    def post(self, request: Request, provider: str) -> Response:
        gateway = _authenticate(request, provider)
        try:
            reports = gateway.parse_reports(request.body)
        except CallbackFormatError as exc:
            raise ApiError("callback_malformed", f"状态报告格式有误：{exc}") from None
        changed = sms_reports_record(reports=reports)
        logger.info("SMS reports: %d received, %d applied", len(reports), changed)
        return Response(ACK)


class ReplyCallbackView(_CallbackView):
    @extend_schema(
        operation_id="sms_callbacks_reply",
        summary="上行短信回调 / Reply webhook (SmsUp)",
        description=(
            "A JSON array of Aliyun SmsUp items. T/TD/退订 unsubscribe the number from "
            "non-urgent texts; other replies go to the app that sent the text they answer "
            '(e.g. "1" confirms a notice) or wait for a school admin. Repeats are ignored.\n\n' + _AUTH
        ),
        parameters=_PARAMS,
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        responses={
            200: CallbackAckOutput,
            **error_responses(
                "400 callback_malformed",
                "401 callback_unauthenticated",
                "403 ip_not_allowed callback_not_configured",
                "404 not_found",
            ),
        },
        tags=["sms-callbacks"],
        auth=[],
    )
    def post(self, request: Request, provider: str) -> Response:
        gateway = _authenticate(request, provider)
        try:
            replies = gateway.parse_replies(request.body)
        except CallbackFormatError as exc:
            raise ApiError("callback_malformed", f"上行短信格式有误：{exc}") from None
        sms_replies_record(replies=replies)
        return Response(ACK)
