"""The org tree in the admin: platform staff get treebeard's tree (drag to move, add
anywhere); school and bureau admins see a flat list of the orgs they administer and may
change only their schools' settings (quiet hours, escalation, visibility)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from backend.schools.models import Org
from backend.schools.selectors import orgs_administered

from .scope import is_platform_admin

SETTINGS_FIELDS = (
    "quiet_hours_start",
    "quiet_hours_end",
    "escalation_delay_minutes",
    "allow_class_visibility",
    "allow_names_public",
    "allow_guardian_chats",
)


@admin.register(Org)
class OrgTreeAdmin(TreeAdmin):
    form = movenodeform_factory(Org)
    list_display = ("name", "kind", "code")
    search_fields = ("name", "code")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[tuple[str, dict[str, Any]]] = [
            ("基本信息", {"fields": ("name", "kind", "code")}),
            ("学校设置", {"fields": SETTINGS_FIELDS}),
        ]
        if is_platform_admin(request):
            fieldsets.append(("在机构树中的位置", {"fields": ("treebeard_position", "treebeard_ref_node")}))
        return fieldsets

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if not is_platform_admin(request):
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if is_platform_admin(request) else ("name", "kind", "code")

    def is_filtered(self, request: HttpRequest) -> bool:
        # Admins below the root cannot walk the tree from the top: show their orgs flat.
        return True if not is_platform_admin(request) else bool(super().is_filtered(request))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset: QuerySet[Any] = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(pk__in=orgs_administered(user=request.user).values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)

    def move_node(self, request: HttpRequest) -> HttpResponse:
        if not is_platform_admin(request):
            raise PermissionDenied
        return super().move_node(request)  # type: ignore[no-any-return]

    def children_view(self, request: HttpRequest, parent_id: str) -> HttpResponse:
        if not is_platform_admin(request):
            raise PermissionDenied
        return super().children_view(request, parent_id)  # type: ignore[no-any-return]
