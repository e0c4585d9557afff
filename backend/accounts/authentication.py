"""Bearer-token authentication for the API: simplejwt's, with its refusals turned into the
house error envelope and stable codes (token_invalid, account_disabled)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.tokens import Token

from .errors import AuthenticationRejected


class JWTAuthentication(authentication.JWTAuthentication):
    def get_raw_token(self, header: bytes) -> bytes | None:
        try:
            return super().get_raw_token(header)
        except exceptions.AuthenticationFailed:
            raise AuthenticationRejected("token_invalid", "登录凭证格式不正确") from None

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            return super().get_validated_token(raw_token)
        except exceptions.AuthenticationFailed:
            raise AuthenticationRejected("token_invalid", "登录已失效，请重新登录") from None

    def get_user(self, validated_token: Token) -> Any:
        try:
            return super().get_user(validated_token)
        except (TypeError, ValueError):
            # A claim that cannot be a user id (a signed token from another issuer).
            raise AuthenticationRejected("token_invalid", "登录已失效，请重新登录") from None
        except exceptions.AuthenticationFailed as exc:
            # simplejwt puts its own code inside the detail: {"detail": ..., "code": ...}.
            if isinstance(exc.detail, dict) and exc.detail.get("code") == "user_inactive":
                raise AuthenticationRejected("account_disabled", "账号已停用，请联系学校") from None
            raise AuthenticationRejected("token_invalid", "登录已失效，请重新登录") from None


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of the class above (drf-spectacular matches exact classes)."""

    target_class = "backend.accounts.authentication.JWTAuthentication"
