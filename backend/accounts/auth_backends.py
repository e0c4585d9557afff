"""Password login by mobile number or student number."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from .models import User
from .phones import InvalidPhone, normalize_cn_mobile


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
