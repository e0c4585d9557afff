"""What a locked-out client sees (django-axes calls this)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "account_locked", "message": "登录失败次数过多，请 15 分钟后再试"}},
        status=429,
        headers={"Retry-After": "900"},
    )
