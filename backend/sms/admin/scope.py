"""Admin-site scope for SMS pages: platform superusers see everything, school and bureau
admins the rows of their subtree (by the org path of each row's account)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.schools.selectors import admin_org_paths, admin_scope_q


def is_platform_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


def administers_something(request: HttpRequest) -> bool:
    user = request.user
    return bool(getattr(user, "is_staff", False) and user.is_active and admin_org_paths(user=user))


class ScopedReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Rows stop at the admin's subtree; nothing is added, changed or deleted here
    (changes go through the services, from the actions and forms that call them)."""

    scope_field = "account__org__path"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return queryset.filter(admin_scope_q(user=request.user, field=self.scope_field))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request) or administers_something(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_list_filter(self, request: HttpRequest) -> Any:
        # Related-field filters list every row of the related table: platform staff only.
        filters = super().get_list_filter(request)
        if is_platform_admin(request):
            return filters
        return [f for f in filters if not (isinstance(f, str) and self._is_relation(f))]

    def _is_relation(self, name: str) -> bool:
        field = self.model._meta.get_field(name.split("__")[0])
        return bool(field.is_relation)
