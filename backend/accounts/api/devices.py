"""devices/: the caller's app installations (push targets)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import Device
from backend.accounts.selectors import devices_of_user
from backend.accounts.services import device_delete, device_register
from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope

from .base import caller


class DeviceOutput(serializers.ModelSerializer[Device]):
    class Meta:
        model = Device
        fields = ("id", "platform", "token", "created_at", "last_seen_at")


class DeviceRegisterInput(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Device.Platform.choices)
    token = serializers.CharField(max_length=512, help_text="推送令牌（FCM 或厂商通道）")


class DeviceCollectionView(APIView):
    @extend_schema(
        summary="我的设备 / My devices",
        description="The caller's registered installations, newest first.\n\nErrors: 401 not_authenticated.",
        responses={200: page_of(DeviceOutput)},
        tags=["accounts"],
    )
    def get(self, request: Request) -> Response:
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(devices_of_user(user=caller(request)), request, view=self)
        return paginator.get_paginated_response(DeviceOutput(page, many=True).data)

    @extend_schema(
        summary="登记设备 / Register a device",
        description=(
            "Registers the app installation for push. 201 when new; 200 when the token was already "
            "registered (it moves to the caller: a phone handed to another parent pushes to them).\n\n"
            "Errors: 400 invalid (platform not android/ios/harmony, empty token, token over 512 "
            "characters); 401 not_authenticated."
        ),
        request=DeviceRegisterInput,
        responses={201: DeviceOutput, 200: DeviceOutput, **error_responses("400 invalid")},
        tags=["accounts"],
    )
    def post(self, request: Request) -> Response:
        data = DeviceRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        device, created = device_register(
            user=caller(request),
            platform=data.validated_data["platform"],
            token=data.validated_data["token"],
        )
        return Response(
            DeviceOutput(device).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class DeviceDetailView(APIView):
    @extend_schema(
        summary="删除设备 / Remove a device",
        description="Stops push to that installation.\n\nErrors: 404 not_found (unknown or not the caller's).",
        responses={204: OpenApiResponse(description="removed"), **error_responses("404 not_found")},
        tags=["accounts"],
    )
    def delete(self, request: Request, device_id: str) -> Response:
        device = get_in_scope(devices_of_user(user=caller(request)), device_id, "设备不存在")
        device_delete(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)
