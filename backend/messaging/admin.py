"""Admin: school admins edit their school's sensitive words and look at the review queue.
Rows are limited to the schools the signed-in admin administers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.schools.selectors import schools_administered

from .models import Report, SensitiveWord


def _school_ids(request: HttpRequest) -> list[int]:
    return list(schools_administered(user=request.user).values_list("pk", flat=True))


@admin.register(SensitiveWord)
class SensitiveWordAdmin(admin.ModelAdmin):
    list_display = ("word", "policy", "school")
    list_filter = ("policy",)
    search_fields = ("word",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SensitiveWord]:
        qs = super().get_queryset(request).select_related("school")
        return qs if request.user.is_superuser else qs.filter(school_id__in=_school_ids(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "school" and not request.user.is_superuser:
            kwargs["queryset"] = schools_administered(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read-only here: resolving goes through the API so it is audited and announced."""

    list_display = ("id", "status", "reason", "created_at", "resolved_at")
    list_filter = ("status",)
    readonly_fields = ("message", "reporter", "reason", "status", "created_at", "resolved_by", "resolved_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(message__conversation__school_id__in=_school_ids(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
