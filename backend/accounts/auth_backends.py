"""Password login by mobile number or student number."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import User
from .phones import InvalidPhone, normalize_cn_mobile


def normalize_login(login: str) -> str:
    """The canonical form of what someone typed as their login: an 11-digit mobile number
    for anything that parses as one ("+86 138-0000-0000"), else the trimmed text (a
    student number). Lockout counts per canonical login, so spelling a number
    differently does not buy more attempts."""
    login = (login or "").strip()
    try:
        return normalize_cn_mobile(login)
    except InvalidPhone:
        return login


def find_user_by_login(login: str) -> User | None:
    login = (login or "").strip()
    if not login:
        return None
    try:
        phone = normalize_cn_mobile(login)
    except InvalidPhone:
        return User.objects.filter(student_number=login).first()
    return User.objects.filter(phone=phone).first()


class LoginBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        login = username or kwargs.get("login") or kwargs.get("phone")
        if not login or not password:
            return None
        user = find_user_by_login(str(login))
        if user is None:
            # Run the hasher anyway so a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """What django-axes counts failures against: the canonical login from the app's
    `login` field or the admin form's `username`."""
    data = credentials or {}
    raw = data.get("login") or data.get("username")
    if raw is None:
        raw = request.POST.get("login") or request.POST.get("username") or ""
    return normalize_login(str(raw))
