from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.schema import error_responses
from backend.delivery.models import DeliveryPreference
from backend.delivery.services import delivery_preferences_get, delivery_preferences_set


class PreferenceSerializer(serializers.Serializer):
    prefer_sms = serializers.BooleanField(required=False, help_text="优先用短信接收（不用推送）")
    sms_enabled = serializers.BooleanField(required=False, help_text="接收非紧急短信；紧急通知仍会发送")
    digest = serializers.ChoiceField(
        choices=DeliveryPreference.Digest.choices,
        required=False,
        help_text="非紧急推送：instant 即时 / daily 每日汇总",
    )


class NotificationSettingsView(APIView):
    @extend_schema(
        summary="我的通知设置 / My notification settings",
        responses=PreferenceSerializer,
        tags=["accounts"],
    )
    def get(self, request: Request) -> Response:
        pref = delivery_preferences_get(user=request.user)
        return Response(PreferenceSerializer(pref).data)

    @extend_schema(
        summary="修改通知设置 / Change notification settings",
        description="只改提交的字段。错误码：invalid。",
        request=PreferenceSerializer,
        responses={200: PreferenceSerializer, **error_responses("400 invalid")},
        tags=["accounts"],
    )
    def patch(self, request: Request) -> Response:
        data = PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pref = delivery_preferences_set(user=request.user, **data.validated_data)
        return Response(PreferenceSerializer(pref).data)
