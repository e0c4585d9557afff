from __future__ import annotations

from django.urls import URLPattern, path

from .classes import ClassListView, ClassMembersView
from .roster import RosterImportCollectionView, RosterImportDetailView

urlpatterns: list[URLPattern] = [
    path("classes/", ClassListView.as_view(), name="classes"),
    path("classes/<str:class_id>/members/", ClassMembersView.as_view(), name="class-members"),
    path(
        "schools/<str:school_id>/roster-imports/",
        RosterImportCollectionView.as_view(),
        name="roster-imports",
    ),
    path(
        "schools/<str:school_id>/roster-imports/<str:import_id>/",
        RosterImportDetailView.as_view(),
        name="roster-import-detail",
    ),
]
