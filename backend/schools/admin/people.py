"""Admin for grades, classes, memberships, guardianship and org admins. Role changes go
through backend.schools.services with the admin as actor, so they are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest

from backend.schools.models import ClassMembership, Grade, Guardianship, OrgAdmin, SchoolClass
from backend.schools.selectors import guardian_display_name, guardianships_administered
from backend.schools.services import (
    guardianship_link,
    guardianship_unlink,
    membership_remove,
    membership_set,
    org_admin_grant,
    org_admin_revoke,
)

from .forms import GuardianshipForm, MembershipForm, MembershipInlineForm, OrgAdminForm, SchoolClassForm
from .scope import ScopedAdmin, adopt, is_platform_admin


@admin.register(Grade)
class GradeAdmin(ScopedAdmin):
    scope_field = "school__path"
    list_display = ("name", "level", "school")
    list_filter = ("school",)
    search_fields = ("name",)
    ordering = ("school", "level", "name")


class MembershipInline(admin.TabularInline[ClassMembership, SchoolClass]):
    model = ClassMembership
    form = MembershipInlineForm
    fields = ("login", "new_name", "role", "is_head_teacher", "subject")
    extra = 1
    verbose_name = "班级成员"
    verbose_name_plural = "班级成员（教师与学生）"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClassMembership]:
        return super().get_queryset(request).select_related("user").order_by("role", "id")


@admin.register(SchoolClass)
class SchoolClassAdmin(ScopedAdmin):
    scope_field = "school__path"
    form = SchoolClassForm
    list_display = ("name", "grade", "school", "student_count", "teacher_count")
    list_filter = ("school", "grade")
    search_fields = ("name",)
    inlines = [MembershipInline]
    list_select_related = ("school", "grade")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _students=Count("memberships", filter=Q(memberships__role=ClassMembership.Role.STUDENT)),
                _teachers=Count("memberships", filter=Q(memberships__role=ClassMembership.Role.TEACHER)),
            )
        )

    @admin.display(description="学生数", ordering="_students")
    def student_count(self, obj: Any) -> int:
        return int(obj._students)

    @admin.display(description="教师数", ordering="_teachers")
    def teacher_count(self, obj: Any) -> int:
        return int(obj._teachers)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ClassMembership:
            super().save_formset(request, form, formset, change)
            return
        _save_membership_formset(request, form.instance, formset)


def _save_membership_formset(
    request: HttpRequest, school_class: SchoolClass, formset: BaseInlineFormSet
) -> None:  # type: ignore[type-arg]
    """The inline's rows, through the audited services instead of formset.save()."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []  # type: ignore[attr-defined]
    deleted = set(formset.deleted_forms)
    form: Any
    for form in formset.forms:
        if form in deleted:
            if form.instance.pk:
                membership_remove(membership=form.instance, actor=request.user)
                formset.deleted_objects.append(form.instance)  # type: ignore[attr-defined]
            continue
        if not form.has_changed():
            continue
        data = form.cleaned_data
        membership = membership_set(
            school_class=school_class,
            user=form.person_user(),
            role=data["role"],
            is_head_teacher=data.get("is_head_teacher", False),
            subject=data.get("subject", ""),
            actor=request.user,
        )
        if form.instance.pk:
            formset.changed_objects.append((membership, form.changed_data))  # type: ignore[attr-defined]
        else:
            formset.new_objects.append(membership)  # type: ignore[attr-defined]


@admin.register(ClassMembership)
class ClassMembershipAdmin(ScopedAdmin):
    scope_field = "school_class__school__path"
    form = MembershipForm
    fields = ("login", "new_name", "school_class", "role", "is_head_teacher", "subject")
    list_display = ("user", "school_class", "role", "is_head_teacher", "subject", "joined_at")
    list_filter = ("role", "is_head_teacher", "school_class")
    search_fields = ("user__name", "user__phone", "user__student_number", "school_class__name")
    list_select_related = ("user", "school_class")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        membership = membership_set(
            school_class=obj.school_class,
            user=form.person_user(),
            role=data["role"],
            is_head_teacher=data.get("is_head_teacher", False),
            subject=data.get("subject", ""),
            actor=request.user,
        )
        adopt(obj, membership)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        membership_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for membership in queryset:
            membership_remove(membership=membership, actor=request.user)


@admin.register(Guardianship)
class GuardianshipAdmin(ScopedAdmin):
    form = GuardianshipForm
    fields = ("student_login", "login", "new_name", "relation")
    list_display = ("student", "relation", "display_name", "guardian", "created_at")
    list_filter = ("relation",)
    search_fields = ("student__name", "student__student_number", "guardian__name", "guardian__phone")
    list_select_related = ("student", "guardian")

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=guardianships_administered(user=request.user).values("pk"))

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.admin_user = request.user  # type: ignore[attr-defined]
        return form

    @admin.display(description="对外称呼")
    def display_name(self, obj: Guardianship) -> str:
        return guardian_display_name(student_name=obj.student.name, relation=obj.relation)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        link = guardianship_link(
            guardian=form.person_user(),
            student=form.student,
            relation=form.cleaned_data["relation"],
            actor=request.user,
        )
        adopt(obj, link)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        guardianship_unlink(guardianship=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for link in queryset:
            guardianship_unlink(guardianship=link, actor=request.user)


@admin.register(OrgAdmin)
class OrgAdminAdmin(ScopedAdmin):
    """Granting and revoking admin roles. A grant cannot be edited: revoke and grant."""

    scope_field = "org__path"
    form = OrgAdminForm
    list_display = ("user", "org", "role", "created_at")
    list_filter = ("role", "org")
    search_fields = ("user__name", "user__phone", "org__name")
    list_select_related = ("user", "org")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("user", "org", "role", "created_at") if obj else ("login", "new_name", "org", "role")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        grant = org_admin_grant(
            org=form.cleaned_data["org"],
            user=form.person_user(),
            role=form.cleaned_data["role"],
            actor=request.user,
        )
        adopt(obj, grant)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._revoke(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for grant in queryset.select_related("user"):
            self._revoke(request, grant)

    def _revoke(self, request: HttpRequest, grant: OrgAdmin) -> None:
        org_admin_revoke(grant=grant, actor=request.user)
        if grant.user_id == request.user.pk and not is_platform_admin(request):
            messages.warning(request, "您撤销了自己的管理员身份，下次登录后将无法进入管理后台")
