"""What a school admin sees in the admin site: only their subtree.

Platform superusers see everything. Everyone else sees, in every list, form choice and
object URL, only rows inside the schools they administer (backend.schools.selectors);
an object outside answers "does not exist", never "forbidden"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from backend.schools.models import Grade, Org, SchoolClass
from backend.schools.selectors import (
    admin_scope_q,
    classes_administered,
    grades_administered,
    orgs_administered,
    schools_administered,
    users_administered,
)


def is_platform_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


def choices_for(request: HttpRequest, model: type[Model], field_name: str) -> QuerySet[Any] | None:
    """The rows a foreign key to `model` may point at for this admin (None: no limit)."""
    user = request.user
    superuser = is_platform_admin(request)
    if model is Org:
        if field_name == "school":
            return Org.objects.filter(kind=Org.Kind.SCHOOL) if superuser else schools_administered(user=user)
        return None if superuser else orgs_administered(user=user)
    if superuser:
        return None
    if model is SchoolClass:
        return classes_administered(user=user).select_related("school")
    if model is Grade:
        return grades_administered(user=user).select_related("school")
    if getattr(model._meta, "label", "") == "accounts.User":
        return users_administered(user=user)
    return None


class ScopedAdmin(admin.ModelAdmin[Any]):
    """A ModelAdmin whose rows and foreign-key choices stop at the admin's subtree.

    `scope_field` is the org path of a row (e.g. "school__path"); override
    `scope_queryset` where a row's school is not a single path away."""

    scope_field = ""

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(admin_scope_q(user=request.user, field=self.scope_field))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if is_platform_admin(request):
            return queryset
        return self.scope_queryset(request, queryset)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = choices_for(request, db_field.related_model, db_field.name)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> Any:
        # Related-field filters list every row of the related table: platform staff only.
        filters = super().get_list_filter(request)
        if is_platform_admin(request):
            return filters
        return [f for f in filters if not (isinstance(f, str) and self._is_relation(f))]

    def _is_relation(self, name: str) -> bool:
        try:
            return bool(self.model._meta.get_field(name.split("__")[0]).is_relation)
        except FieldDoesNotExist:
            return False


def adopt(target: Model, saved: Model) -> None:
    """Make the admin's unsaved form instance stand for the row a service saved, so the
    admin can log and redirect to it."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db
