from django.urls import path

from .views import NotificationSettingsView

urlpatterns = [
    path("me/notification-settings/", NotificationSettingsView.as_view(), name="notification-settings"),
]
