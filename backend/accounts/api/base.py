"""The base of the accounts views: bearer-token auth in the house envelope, and the
headers that belong to some refusals (Retry-After, WWW-Authenticate), which the shared
exception handler does not add for ApiError."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.authentication import JWTAuthentication
from backend.accounts.errors import RetryLater
from backend.accounts.models import User


def caller(request: Request) -> User:
    """The authenticated user of a view that requires authentication."""
    user = request.user
    if not isinstance(user, User):
        raise TypeError("caller() is for authenticated views only")
    return user


class AccountsView(APIView):
    authentication_classes: Sequence[type[BaseAuthentication]] = (JWTAuthentication,)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, RetryLater):
            response["Retry-After"] = str(exc.retry_after)
        auth_header: Any = getattr(exc, "auth_header", None)
        if auth_header and response.status_code == 401 and "WWW-Authenticate" not in response:
            response["WWW-Authenticate"] = auth_header
        return response
