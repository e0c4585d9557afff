from __future__ import annotations

from django.urls import URLPattern, path

from .views import QuarterlyReportView, ReachView, ScoresView, TeacherScoresView

urlpatterns: list[URLPattern] = [
    path("stats/scores/", ScoresView.as_view(), name="stats-scores"),
    path("stats/scores/teachers/<str:teacher_id>/", TeacherScoresView.as_view(), name="stats-teacher-scores"),
    path("stats/reach/", ReachView.as_view(), name="stats-reach"),
    path("stats/reports/quarterly.xlsx", QuarterlyReportView.as_view(), name="stats-quarterly-report"),
]
