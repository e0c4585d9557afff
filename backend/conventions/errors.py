"""The one error envelope: {"error": {"code", "message", "fields"}}.

Views and services raise `ApiError` (or DRF's own exceptions); the handler turns every
client error into the envelope with a stable snake_case code and a Chinese message."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response


class ApiError(exceptions.APIException):
    """A client error with a stable code. Raise it from services and views."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "请求有误"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status_code: int = 400,
        fields: dict[str, list[str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail=message, code=code)
        self.retry_after = retry_after
        self.code = code
        self.message = message
        self.status_code = status_code  # type: ignore[assignment]
        self.fields = fields or {}


def not_found(message: str = "对象不存在") -> ApiError:
    """Out-of-scope and missing objects answer the same way (404)."""
    return ApiError("not_found", message, status_code=404)


_STATUS_CODES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.ParseError: ("malformed_request", "请求内容无法解析，请检查 JSON 格式"),
    exceptions.NotAuthenticated: ("not_authenticated", "请先登录"),
    exceptions.AuthenticationFailed: ("authentication_failed", "登录凭证无效或已过期"),
    exceptions.PermissionDenied: ("permission_denied", "没有权限执行此操作"),
    exceptions.NotFound: ("not_found", "对象不存在"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法"),
    exceptions.NotAcceptable: ("not_acceptable", "不支持请求的响应格式"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的请求内容类型"),
    exceptions.Throttled: ("rate_limited", "请求过于频繁，请稍后再试"),
}


def api_page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a URL under /api/ that matches no route (e.g. `sms/jobs/abc/` where the
    route takes a number) answers the envelope like every other API 404; other paths keep
    Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": "对象不存在"}}, status=404)
    return defaults.page_not_found(request, exception or Http404())


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flatten(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _flatten(value)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, list[str]]:
    if not isinstance(detail, dict):
        return {"non_field_errors": _flatten(detail)}
    return {str(key): _flatten(value) for key, value in detail.items()}


def error_response(
    code: str,
    message: str,
    status_code: int,
    fields: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status=status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApiError):
        headers: dict[str, str] = {}
        if exc.retry_after:
            headers["Retry-After"] = str(max(1, int(exc.retry_after)))
        auth_header = getattr(exc, "auth_header", None)
        if auth_header and exc.status_code == 401:
            headers["WWW-Authenticate"] = str(auth_header)
        return error_response(exc.code, exc.message, exc.status_code, exc.fields, headers or None)
    if isinstance(exc, RequestDataTooBig):
        return error_response("payload_too_large", "请求内容过大（上限 1 MB）", 413)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return error_response("invalid", "提交的数据有误", 400, fields)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    # Imported here: rest_framework.views reads api_settings, whose authentication classes
    # import this module, so a module-level import would be circular.
    from rest_framework.views import exception_handler

    response = exception_handler(exc, context)
    if response is None:
        return None
    headers = {k: v for k, v in response.headers.items() if k in ("Retry-After", "WWW-Authenticate")}
    if isinstance(exc, exceptions.ValidationError):
        return error_response("invalid", "提交的数据有误", 400, _fields(exc.detail), headers)
    for exc_type, (code, message) in _STATUS_CODES.items():
        if isinstance(exc, exc_type):
            wait = getattr(exc, "wait", None)
            if isinstance(exc, exceptions.Throttled) and wait:
                message = f"请求过于频繁，请 {int(wait) + 1} 秒后再试"
            return error_response(code, message, response.status_code, None, headers)
    return error_response("error", "请求失败", response.status_code, None, headers)
