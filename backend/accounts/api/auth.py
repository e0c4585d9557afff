"""Logging in and out: password, SMS code, token refresh, logout."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.selectors import user_profile
from backend.accounts.services import (
    LoginResult,
    sms_login_code_send,
    token_obtain_by_password,
    token_obtain_by_sms_code,
    token_refresh,
    token_revoke,
)
from backend.audit.services import client_ip
from backend.conventions.schema import error_responses

from .base import caller
from .me import MeOutput

# JWTs are a few hundred characters; the cap keeps absurd bodies out of the parser.
TOKEN_MAX_LENGTH = 2048


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField(help_text="访问令牌，10 分钟有效")
    refresh = serializers.CharField(help_text="刷新令牌，7 天有效，使用一次即作废")


class LoginOutput(TokenPairOutput):
    user = MeOutput()


def login_answer(result: LoginResult) -> Response:
    payload = {
        "access": result.tokens.access,
        "refresh": result.tokens.refresh,
        "user": user_profile(user=result.user),
    }
    return Response(LoginOutput(payload).data)


class AnonymousView(APIView):
    # No authentication at all: a stale Authorization header must not block logging in.
    authentication_classes = ()
    permission_classes = (AllowAny,)


class PasswordLoginInput(serializers.Serializer):
    login = serializers.CharField(max_length=64, help_text="手机号或学号")
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordLoginView(AnonymousView):
    @extend_schema(
        summary="密码登录 / Log in with a password",
        description=(
            "`login` is a mobile number or a student number.\n\n"
            "Errors: 400 invalid; 401 invalid_credentials (unknown login and wrong password alike); "
            "429 account_locked with Retry-After (5 failures per account or per client address "
            "within 15 minutes lock both out for 15 minutes after the latest attempt, even with the "
            "right password)."
        ),
        request=PasswordLoginInput,
        responses={
            200: LoginOutput,
            **error_responses("400 invalid", "401 invalid_credentials", "429 account_locked"),
        },
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        data = PasswordLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = token_obtain_by_password(
            # django-axes needs Django's own request (it flags it and reads the address).
            request=request._request,
            login=data.validated_data["login"],
            password=data.validated_data["password"],
        )
        return login_answer(result)


class TokenRefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)


class TokenRefreshView(AnonymousView):
    @extend_schema(
        summary="刷新令牌 / Refresh the tokens",
        description=(
            "Returns a new pair; the refresh token sent is blacklisted (rotation).\n\n"
            "Errors: 400 invalid; 401 token_invalid (expired, malformed or already used), "
            "account_disabled."
        ),
        request=TokenRefreshInput,
        responses={
            200: TokenPairOutput,
            **error_responses("400 invalid", "401 token_invalid account_disabled"),
        },
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        data = TokenRefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        pair = token_refresh(refresh=data.validated_data["refresh"])
        return Response(TokenPairOutput(pair).data)


class SmsCodeInput(serializers.Serializer):
    phone = serializers.CharField(max_length=32, allow_blank=True, help_text="中国大陆手机号")


class SmsCodeView(AnonymousView):
    @extend_schema(
        summary="获取登录验证码 / Send an SMS login code",
        description=(
            "Texts a 6-digit code valid for 5 minutes. Answers 204 for numbers without an account "
            "too, but sends nothing to them (no account enumeration).\n\n"
            "Errors: 400 invalid_phone; 429 sms_code_rate_limited with Retry-After "
            "(per number: 1 a minute, 5 an hour, 10 a day; per client address: 30 an hour, 100 a day)."
        ),
        request=SmsCodeInput,
        responses={
            204: OpenApiResponse(description="sent, or silently not sent to an unknown number"),
            **error_responses("400 invalid_phone", "429 sms_code_rate_limited"),
        },
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        data = SmsCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        sms_login_code_send(phone=data.validated_data["phone"], ip=client_ip(request._request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SmsLoginInput(serializers.Serializer):
    phone = serializers.CharField(max_length=32, allow_blank=True)
    code = serializers.CharField(max_length=16, allow_blank=True)


class SmsLoginView(AnonymousView):
    @extend_schema(
        summary="验证码登录 / Log in with an SMS code",
        description=(
            "Errors: 400 invalid_phone; 400 invalid_code (wrong, expired, used, superseded, or "
            "burnt after 5 wrong guesses)."
        ),
        request=SmsLoginInput,
        responses={200: LoginOutput, **error_responses("400 invalid_phone invalid_code")},
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        data = SmsLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = token_obtain_by_sms_code(
            request=request._request, phone=data.validated_data["phone"], code=data.validated_data["code"]
        )
        return login_answer(result)


class LogoutInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)


class LogoutView(APIView):
    @extend_schema(
        summary="退出登录 / Log out",
        description=(
            "Blacklists the caller's refresh token. Idempotent: an expired, already revoked or "
            "someone else's token also answers 204 (and is left alone).\n\n"
            "Errors: 400 invalid; 401 not_authenticated, token_invalid."
        ),
        request=LogoutInput,
        responses={
            204: OpenApiResponse(description="logged out"),
            **error_responses("400 invalid", "401 token_invalid"),
        },
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        token_revoke(
            refresh=data.validated_data["refresh"], user=caller(request), ip=client_ip(request._request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
