from django.urls import URLPattern, path

from .views import (
    ConsentCollectionView,
    ConsentWithdrawView,
    DeletionCollectionView,
    DeletionDetailView,
    ExportCollectionView,
    ExportDetailView,
    ExportDownloadView,
    PolicyView,
)

urlpatterns: list[URLPattern] = [
    path("privacy/policy/", PolicyView.as_view(), name="privacy-policy"),
    path("privacy/consents/", ConsentCollectionView.as_view(), name="privacy-consents"),
    path(
        "privacy/consents/<str:consent_id>/withdraw/",
        ConsentWithdrawView.as_view(),
        name="privacy-consent-withdraw",
    ),
    path("privacy/exports/", ExportCollectionView.as_view(), name="privacy-exports"),
    path(
        "privacy/exports/download/<str:token>/", ExportDownloadView.as_view(), name="privacy-export-download"
    ),
    path("privacy/exports/<str:export_id>/", ExportDetailView.as_view(), name="privacy-export"),
    path("privacy/deletions/", DeletionCollectionView.as_view(), name="privacy-deletions"),
    path("privacy/deletions/<str:deletion_id>/", DeletionDetailView.as_view(), name="privacy-deletion"),
]
