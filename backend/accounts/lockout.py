"""Password-login lockout (django-axes): how long it lasts and what a locked-out client sees."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from .errors import account_locked

DEFAULT_COOL_OFF = timedelta(minutes=15)


def lockout_retry_after(*, login: str | None, ip: str | None) -> int:
    """Seconds until a locked login / address may try again: the cool-off counted from the
    latest counted failure of either (axes does not count attempts refused while locked,
    so this is when the lock has surely lifted)."""
    cool_off = get_cool_off() or DEFAULT_COOL_OFF
    now = timezone.now()
    match = Q(pk__in=[])
    if login:
        match |= Q(username=login)
    if ip:
        match |= Q(ip_address=ip)
    latest = AccessAttempt.objects.filter(match, attempt_time__gte=now - cool_off).aggregate(
        latest=Max("attempt_time")
    )["latest"]
    if latest is None:
        return math.ceil(cool_off.total_seconds())
    return max(1, math.ceil((latest + cool_off - now).total_seconds()))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE. The API's login view already answered 429 account_locked
    with an exact Retry-After: keep that. Any other login door gets the same envelope."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    login = get_client_username(request, credentials) if credentials else None
    retry_after = lockout_retry_after(login=login, ip=get_client_ip_address(request))
    error = account_locked(retry_after=retry_after)
    return JsonResponse(
        {"error": {"code": error.code, "message": error.message}},
        status=429,
        headers={"Retry-After": str(error.retry_after)},
    )
