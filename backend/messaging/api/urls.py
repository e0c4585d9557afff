from __future__ import annotations

from django.urls import URLPattern, path

from .conversations import (
    CloseView,
    ConversationCollectionView,
    ConversationDetailView,
    MuteView,
    NotificationsView,
    PinView,
    ReadView,
)
from .messages import MessageCollectionView, MessageDetailView, ReportCreateView
from .moderation import OfficeHoursView, ReportQueueView, ReportResolveView, SchoolWordsView

urlpatterns: list[URLPattern] = [
    path("conversations/", ConversationCollectionView.as_view(), name="conversations"),
    path(
        "conversations/<str:conversation_id>/", ConversationDetailView.as_view(), name="conversation-detail"
    ),
    path(
        "conversations/<str:conversation_id>/messages/",
        MessageCollectionView.as_view(),
        name="conversation-messages",
    ),
    path("conversations/<str:conversation_id>/read/", ReadView.as_view(), name="conversation-read"),
    path("conversations/<str:conversation_id>/close/", CloseView.as_view(), name="conversation-close"),
    path("conversations/<str:conversation_id>/pin/", PinView.as_view(), name="conversation-pin"),
    path("conversations/<str:conversation_id>/mutes/", MuteView.as_view(), name="conversation-mutes"),
    path(
        "conversations/<str:conversation_id>/notifications/",
        NotificationsView.as_view(),
        name="conversation-notifications",
    ),
    path("messages/<str:message_id>/", MessageDetailView.as_view(), name="message-detail"),
    path("messages/<str:message_id>/reports/", ReportCreateView.as_view(), name="message-reports"),
    path("moderation/reports/", ReportQueueView.as_view(), name="moderation-reports"),
    path(
        "moderation/reports/<str:report_id>/resolve/", ReportResolveView.as_view(), name="moderation-resolve"
    ),
    path(
        "schools/<str:school_id>/sensitive-words/", SchoolWordsView.as_view(), name="school-sensitive-words"
    ),
    path("me/office-hours/", OfficeHoursView.as_view(), name="me-office-hours"),
]
