from __future__ import annotations

from django.urls import URLPattern, path

from .campaigns import (
    CampaignCloseView,
    CampaignCollectionView,
    CampaignDetailView,
    CampaignRankingView,
    CampaignStatsView,
    CampaignStreaksView,
)
from .checkins import CampaignCheckinsView, CheckinCommentsView, CheckinDetailView, CheckinLikesView

urlpatterns: list[URLPattern] = [
    path("checkin-campaigns/", CampaignCollectionView.as_view(), name="checkin-campaigns"),
    path("checkin-campaigns/<str:campaign_id>/", CampaignDetailView.as_view(), name="checkin-campaign"),
    path(
        "checkin-campaigns/<str:campaign_id>/close/",
        CampaignCloseView.as_view(),
        name="checkin-campaign-close",
    ),
    path(
        "checkin-campaigns/<str:campaign_id>/stats/",
        CampaignStatsView.as_view(),
        name="checkin-campaign-stats",
    ),
    path(
        "checkin-campaigns/<str:campaign_id>/checkins/",
        CampaignCheckinsView.as_view(),
        name="checkin-campaign-checkins",
    ),
    path(
        "checkin-campaigns/<str:campaign_id>/streaks/",
        CampaignStreaksView.as_view(),
        name="checkin-campaign-streaks",
    ),
    path(
        "checkin-campaigns/<str:campaign_id>/ranking/",
        CampaignRankingView.as_view(),
        name="checkin-campaign-ranking",
    ),
    path("checkins/<str:checkin_id>/", CheckinDetailView.as_view(), name="checkin"),
    path("checkins/<str:checkin_id>/comments/", CheckinCommentsView.as_view(), name="checkin-comments"),
    path("checkins/<str:checkin_id>/likes/", CheckinLikesView.as_view(), name="checkin-likes"),
]
