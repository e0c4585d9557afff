from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from backend.schools.admin.scope import ScopedAdmin
from backend.schools.selectors import orgs_administered

from .dashboard import dashboard_context
from .models import Dashboard, ScoreEvidence, TeacherWeekScore


class ScoreEvidenceInline(admin.TabularInline[ScoreEvidence, TeacherWeekScore]):
    model = ScoreEvidence
    extra = 0
    can_delete = False
    fields = ("day", "source_type", "source_id", "label", "points", "capped", "figures")
    readonly_fields = fields


@admin.register(TeacherWeekScore)
class TeacherWeekScoreAdmin(ScopedAdmin):
    scope_field = "school__path"
    list_display = ["week", "teacher", "school", "row", "points", "computed_at"]
    list_filter = ["week", "row"]
    search_fields = ["teacher__name"]
    inlines = [ScoreEvidenceInline]
    readonly_fields = ["teacher", "school", "week", "row", "points", "detail", "computed_at"]

    # Scores are computed by the weekly job; nobody edits them by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin[Dashboard]):
    """/admin/stats/dashboard/: charts for platform staff and for org admins (own subtree)."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return bool(
            user.is_active and user.is_staff and (user.is_superuser or orgs_administered(user=user).exists())
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "积分看板",
            **dashboard_context(user=request.user, org_id=request.GET.get("org_id")),
        }
        return TemplateResponse(request, "admin/stats/dashboard.html", context)
