from __future__ import annotations

from django.urls import URLPattern, path

from .views import (
    NoticeCancelView,
    NoticeCollectionView,
    NoticeConfirmView,
    NoticeDetailView,
    NoticeReadView,
    NoticeRecallView,
    NoticeReceiptsView,
    NoticeRemindersView,
    NoticeUnreadCountView,
)

urlpatterns: list[URLPattern] = [
    path("notices/", NoticeCollectionView.as_view(), name="notices"),
    path("notices/unread-count/", NoticeUnreadCountView.as_view(), name="notices-unread-count"),
    path("notices/<str:notice_id>/", NoticeDetailView.as_view(), name="notice-detail"),
    path("notices/<str:notice_id>/read/", NoticeReadView.as_view(), name="notice-read"),
    path("notices/<str:notice_id>/confirm/", NoticeConfirmView.as_view(), name="notice-confirm"),
    path("notices/<str:notice_id>/receipts/", NoticeReceiptsView.as_view(), name="notice-receipts"),
    path("notices/<str:notice_id>/reminders/", NoticeRemindersView.as_view(), name="notice-reminders"),
    path("notices/<str:notice_id>/recall/", NoticeRecallView.as_view(), name="notice-recall"),
    path("notices/<str:notice_id>/cancel/", NoticeCancelView.as_view(), name="notice-cancel"),
]
