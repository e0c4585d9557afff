from __future__ import annotations

from django.urls import URLPattern, path

from .assignments import (
    AssignmentCloseView,
    AssignmentCollectionView,
    AssignmentDetailView,
    AssignmentExcellentView,
    AssignmentRemindView,
)
from .submissions import FeedbackView, SubmissionCollectionView, SubmissionDetailView

urlpatterns: list[URLPattern] = [
    path("assignments/", AssignmentCollectionView.as_view(), name="assignments"),
    path("assignments/<str:assignment_id>/", AssignmentDetailView.as_view(), name="assignment-detail"),
    path("assignments/<str:assignment_id>/close/", AssignmentCloseView.as_view(), name="assignment-close"),
    path(
        "assignments/<str:assignment_id>/reminders/",
        AssignmentRemindView.as_view(),
        name="assignment-reminders",
    ),
    path(
        "assignments/<str:assignment_id>/excellent/",
        AssignmentExcellentView.as_view(),
        name="assignment-excellent",
    ),
    path(
        "assignments/<str:assignment_id>/submissions/",
        SubmissionCollectionView.as_view(),
        name="assignment-submissions",
    ),
    path("submissions/<str:submission_id>/", SubmissionDetailView.as_view(), name="submission-detail"),
    path("submissions/<str:submission_id>/feedback/", FeedbackView.as_view(), name="submission-feedback"),
]
