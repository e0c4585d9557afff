from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

admin.site.site_header = "家校通 管理后台"
admin.site.site_title = "家校通"
admin.site.index_title = "学校管理"

api_v1 = [
    path("", include("backend.accounts.api.urls")),
    path("", include("backend.schools.api.urls")),
    path("", include("backend.realtime.api.urls")),
    path("", include("backend.delivery.api.urls")),
    path("", include("backend.files.api.urls")),
    path("", include("backend.notices.api.urls")),
    path("", include("backend.sms.api.urls")),
    path("", include("backend.checkins.api.urls")),
    path("", include("backend.homework.api.urls")),
    path("", include("backend.messaging.api.urls")),
    path("", include("backend.privacy.api.urls")),
    path("", include("backend.stats.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
]

# /api/ paths that match no route answer the JSON error envelope too (404 not_found).
handler404 = "backend.conventions.errors.api_page_not_found"
