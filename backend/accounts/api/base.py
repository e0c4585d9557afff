"""Helpers shared by the accounts views. Bearer-token auth and the refusals' headers
(Retry-After, WWW-Authenticate) come from the project defaults and the shared handler."""

from __future__ import annotations

from rest_framework.request import Request

from backend.accounts.models import User


def caller(request: Request) -> User:
    """The authenticated user of a view that requires authentication."""
    user = request.user
    if not isinstance(user, User):
        raise TypeError("caller() is for authenticated views only")
    return user
