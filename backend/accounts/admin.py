"""Accounts in the admin site: people (by mobile number, student number and name; no
username) and their devices.

Platform superusers see everyone. School and bureau admins see only the people of the
schools they administer (backend.schools.selectors.users_administered), cannot touch the
staff/superuser flags, groups or permissions, and create accounts straight into one of
their classes so the new person is in their scope."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from backend.accounts.models import Device, User
from backend.accounts.phones import InvalidPhone, normalize_cn_mobile
from backend.accounts.services import device_delete, student_passwords_issue, user_deactivate, user_ensure
from backend.schools.models import ClassMembership
from backend.schools.selectors import classes_for_admin_site, users_administered
from backend.schools.services import membership_set


def _is_platform_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


class LoginFieldsMixin(forms.Form):
    """Mobile numbers stored in the 11-digit form ("+86 138-0000-0000" accepted); blank
    logins stored as NULL (they are unique)."""

    phone = forms.CharField(label="手机号", max_length=20, required=False)
    student_number = forms.CharField(label="学号", max_length=32, required=False)

    def clean_phone(self) -> str | None:
        raw = (self.cleaned_data.get("phone") or "").strip()
        if not raw:
            return None
        try:
            return normalize_cn_mobile(raw)
        except InvalidPhone:
            raise forms.ValidationError("请输入有效的中国大陆手机号") from None

    def clean_student_number(self) -> str | None:
        value = (self.cleaned_data.get("student_number") or "").strip()
        if value and " " in value:
            raise forms.ValidationError("学号不能含空格")
        return value or None


class UserChangeForm(LoginFieldsMixin, DjangoUserChangeForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        both_editable = "phone" in self.fields and "student_number" in self.fields
        if both_editable and not cleaned.get("phone") and not cleaned.get("student_number"):
            raise forms.ValidationError("手机号和学号至少填写一项")
        return cleaned


class UserAddForm(LoginFieldsMixin, forms.ModelForm):  # type: ignore[type-arg]
    password1 = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        required=False,
        help_text="可留空：不设密码，本人可用短信验证码登录",
    )
    password2 = forms.CharField(
        label="确认密码", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), required=False
    )
    # The queryset is the admin's classes, set per request in UserAdmin.get_form.
    school_class: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, label="加入班级", required=False
    )
    role = forms.ChoiceField(label="班级身份", choices=ClassMembership.Role.choices, required=False)
    subject = forms.CharField(label="任教学科", max_length=32, required=False)
    class_required = False

    class Meta:
        model = User
        fields = ("phone", "student_number", "name")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("phone") and not cleaned.get("student_number"):
            raise forms.ValidationError("手机号和学号至少填写一项")
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 != p2:
            self.add_error("password2", "两次输入的密码不一致")
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        if self.class_required and not cleaned.get("school_class"):
            self.add_error("school_class", "请选择班级：新账户需加入您管理的某个班级")
        if cleaned.get("school_class") and not cleaned.get("role"):
            self.add_error("role", "请选择班级身份")
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserAddForm
    add_form_template = None
    ordering = ("-id",)
    list_display = (
        "name",
        "phone",
        "student_number",
        "is_active",
        "is_staff",
        "first_app_login_at",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("name", "phone", "student_number")
    filter_horizontal = ("groups", "user_permissions")
    actions = ["deactivate_users", "issue_student_passwords"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        queryset: QuerySet[User] = super().get_queryset(request)
        if _is_platform_admin(request):
            return queryset
        return queryset.filter(pk__in=users_administered(user=request.user).values("pk"))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            fields: tuple[str, ...] = ("phone", "student_number", "name", "password1", "password2")
            return (
                (None, {"classes": ("wide",), "fields": fields}),
                ("班级", {"fields": ("school_class", "role", "subject")}),
            )
        permissions: tuple[str, ...] = ("is_staff", "is_superuser", "groups", "user_permissions")
        if not _is_platform_admin(request):
            permissions = ("is_staff",)
        return (
            (None, {"fields": ("phone", "student_number", "password")}),
            ("个人信息", {"fields": ("name", "avatar")}),
            ("状态", {"fields": ("is_active", "first_app_login_at", "last_login", "date_joined")}),
            ("权限", {"fields": permissions}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # is_active changes only through the 停用账户 action (user_deactivate revokes tokens
        # and closes sockets); staff access only through org admin grants.
        readonly = ["is_active", "first_app_login_at", "last_login", "date_joined"]
        if not _is_platform_admin(request):
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            field: Any = form.base_fields["school_class"]
            field.queryset = classes_for_admin_site(user=request.user)
            field.label_from_instance = lambda c: f"{c.school.name} {c.name}"
            form.class_required = not _is_platform_admin(request)  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        user, _ = user_ensure(
            name=data["name"],
            phone=data.get("phone"),
            student_number=data.get("student_number"),
            password=data.get("password1") or None,
        )
        if data.get("school_class"):
            membership_set(
                school_class=data["school_class"],
                user=user,
                role=data["role"],
                subject=data.get("subject", ""),
                actor=request.user,
            )
        for field in User._meta.concrete_fields:
            setattr(obj, field.attname, getattr(user, field.attname))
        obj._state.adding = False
        obj._state.db = user._state.db

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_platform_admin(request)

    @admin.action(description="停用账户", permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset.filter(is_active=True):
            if user.pk == request.user.pk:
                self.message_user(request, "不能停用自己的账户", messages.WARNING)
                continue
            user_deactivate(user=user, actor=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, f"已停用 {count} 个账户", messages.SUCCESS)

    @admin.action(description="生成学生初始密码（下载 CSV）", permissions=["change"])
    def issue_student_passwords(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        students = list(queryset.filter(is_active=True, student_number__isnull=False))
        if not students:
            self.message_user(request, "所选账户中没有学生（需有学号）", messages.WARNING)
            return None
        issued = student_passwords_issue(students=students, actor=request.user)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="student-passwords.csv"'
        response.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
        writer = csv.writer(response)
        writer.writerow(["学号", "姓名", "初始密码"])
        for item in issued:
            writer.writerow([item.student_number, item.name, item.password])
        return response


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin[Device]):
    list_display = ("user", "platform", "token_preview", "created_at", "last_seen_at")
    list_filter = ("platform",)
    search_fields = ("user__name", "user__phone")
    list_select_related = ("user",)
    fields = ("user", "platform", "token_preview", "created_at", "last_seen_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Device]:
        queryset = super().get_queryset(request)
        if _is_platform_admin(request):
            return queryset
        return queryset.filter(user__in=users_administered(user=request.user).values("pk"))

    @admin.display(description="推送令牌")
    def token_preview(self, obj: Device) -> str:
        # A push token lets anyone push to that phone: never shown whole.
        return f"{obj.token[:12]}…" if len(obj.token) > 12 else obj.token

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_platform_admin(request)

    def delete_model(self, request: HttpRequest, obj: Device) -> None:
        device_delete(device=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset:
            device_delete(device=device)
