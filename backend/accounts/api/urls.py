from __future__ import annotations

from django.urls import URLPattern, path

from .auth import (
    LogoutView,
    PasswordLoginView,
    SmsCodeView,
    SmsLoginView,
    TokenRefreshView,
)
from .devices import DeviceCollectionView, DeviceDetailView
from .me import MeView

urlpatterns: list[URLPattern] = [
    path("auth/token/", PasswordLoginView.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/sms-code/", SmsCodeView.as_view(), name="auth-sms-code"),
    path("auth/token/sms/", SmsLoginView.as_view(), name="auth-token-sms"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("me/", MeView.as_view(), name="me"),
    path("devices/", DeviceCollectionView.as_view(), name="devices"),
    path("devices/<str:device_id>/", DeviceDetailView.as_view(), name="device-detail"),
]
