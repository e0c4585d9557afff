"""Admin forms that name people by login (mobile number or student number) instead of a
drop-down of every account, creating the account when it does not exist yet."""

from __future__ import annotations

from typing import Any

from django import forms

from backend.accounts.auth_backends import find_user_by_login
from backend.accounts.phones import InvalidPhone, normalize_cn_mobile
from backend.accounts.services import user_ensure
from backend.schools.models import ClassMembership, Guardianship, Org, OrgAdmin, SchoolClass
from backend.schools.selectors import users_administered

LOGIN_HELP = "手机号或学号；尚无账户时请同时填写姓名，将自动创建（无密码，可用短信验证码登录）"


def _phone_or_none(login: str) -> str | None:
    try:
        return normalize_cn_mobile(login)
    except InvalidPhone:
        return None


class PersonByLogin:
    """Resolve `login` (+ `new_name`) in clean(); create the account only on save."""

    cleaned_data: dict[str, Any]
    add_error: Any
    person: Any = None
    login_field = "login"
    name_field = "new_name"
    phone_only = False

    def resolve_person(self) -> None:
        login = (self.cleaned_data.get(self.login_field) or "").strip()
        name = (self.cleaned_data.get(self.name_field) or "").strip()
        if not login:
            self.add_error(self.login_field, "请填写手机号或学号")
            return
        phone = _phone_or_none(login)
        if self.phone_only and phone is None:
            self.add_error(self.login_field, "请填写有效的中国大陆手机号")
            return
        if phone is None and (" " in login or len(login) > 32):
            self.add_error(self.login_field, "学号不能含空格，且不超过 32 个字符")
            return
        self.person = find_user_by_login(phone or login)
        if self.person is None and not name:
            self.add_error(self.name_field, "该手机号/学号尚无账户：请填写姓名以创建")
        self._login = (phone, None if phone else login, name)

    def person_user(self) -> Any:
        if self.person is None:
            phone, student_number, name = self._login
            self.person, _ = user_ensure(name=name, phone=phone, student_number=student_number)
        return self.person


class MembershipForm(PersonByLogin, forms.ModelForm):  # type: ignore[misc]
    login = forms.CharField(label="手机号或学号", max_length=32, required=False, help_text=LOGIN_HELP)
    new_name = forms.CharField(label="姓名（新账户）", max_length=64, required=False)

    class Meta:
        model = ClassMembership
        fields = ("school_class", "role", "is_head_teacher", "subject")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # An existing membership keeps its person and class: to move, remove and add.
            for name in ("login", "new_name", "school_class"):
                if name in self.fields:
                    self.fields[name].disabled = True
            self.fields["login"].initial = self.instance.user.login
            self.fields["new_name"].initial = self.instance.user.name

    def school_class(self) -> SchoolClass | None:
        return self.cleaned_data.get("school_class")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk:
            self.person = self.instance.user
            return cleaned
        self.resolve_person()
        school_class = self.school_class()
        if (
            self.person is not None
            and school_class is not None
            and school_class.pk
            and ClassMembership.objects.filter(school_class=school_class, user=self.person).exists()
        ):
            self.add_error("login", "此人已在该班级中")
        return cleaned


class MembershipInlineForm(MembershipForm):
    class Meta:
        model = ClassMembership
        fields = ("role", "is_head_teacher", "subject")

    def school_class(self) -> SchoolClass | None:
        return getattr(self.instance, "school_class", None) if self.instance.school_class_id else None


class GuardianshipForm(PersonByLogin, forms.ModelForm):  # type: ignore[misc]
    """Link a guardian (by mobile number) to a student (by student number or phone)."""

    student_login = forms.CharField(label="学生学号", max_length=32, required=False)
    login = forms.CharField(label="家长手机号", max_length=20, required=False, help_text=LOGIN_HELP)
    new_name = forms.CharField(label="家长姓名（新账户）", max_length=64, required=False)
    phone_only = True
    admin_user: Any = None  # set by the admin: students are looked up inside their scope

    class Meta:
        model = Guardianship
        fields = ("relation",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("student_login", "login", "new_name"):
                self.fields[name].disabled = True
            self.fields["student_login"].initial = self.instance.student.login
            self.fields["login"].initial = self.instance.guardian.login
            self.fields["new_name"].initial = self.instance.guardian.name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk:
            self.person = self.instance.guardian
            self.student = self.instance.student
            return cleaned
        student_login = (cleaned.get("student_login") or "").strip()
        students = ClassMembership.objects.filter(role=ClassMembership.Role.STUDENT)
        if self.admin_user is not None and not self.admin_user.is_superuser:
            students = students.filter(user__in=users_administered(user=self.admin_user))
        student = find_user_by_login(student_login) if student_login else None
        if student is None or not students.filter(user=student).exists():
            self.add_error("student_login", "找不到该学生（须是您管理的学校中某个班级的学生）")
        self.student = student
        self.resolve_person()
        if self.person is not None and self.person == student:
            self.add_error("login", "家长不能是学生本人")
        elif (
            self.person is not None
            and Guardianship.objects.filter(guardian=self.person, student=student).exists()
        ):
            self.add_error("login", "该监护关系已存在，请直接修改原记录")
        return cleaned


class OrgAdminForm(PersonByLogin, forms.ModelForm):  # type: ignore[misc]
    login = forms.CharField(label="手机号", max_length=20, required=False, help_text=LOGIN_HELP)
    new_name = forms.CharField(label="姓名（新账户）", max_length=64, required=False)
    phone_only = True

    class Meta:
        model = OrgAdmin
        fields = ("org", "role")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        org: Org | None = cleaned.get("org")
        role = cleaned.get("role")
        if org is not None and role is not None:
            if role == OrgAdmin.Role.SCHOOL_ADMIN and org.kind != Org.Kind.SCHOOL:
                self.add_error("role", "学校管理员只能设在学校上")
            if role == OrgAdmin.Role.BUREAU_ADMIN and org.kind == Org.Kind.SCHOOL:
                self.add_error("role", "教育局管理员只能设在省、市或县/区上")
        self.resolve_person()
        if (
            self.person is not None
            and org is not None
            and OrgAdmin.objects.filter(org=org, user=self.person).exists()
        ):
            self.add_error("login", "此人已是该机构的管理员")
        return cleaned


class SchoolClassForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SchoolClass
        fields = ("school", "grade", "name")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        school, grade = cleaned.get("school"), cleaned.get("grade")
        if school is not None and grade is not None and grade.school_id != school.pk:
            self.add_error("grade", "该年级不属于所选学校")
        return cleaned


class RosterUploadForm(forms.Form):
    school = forms.ModelChoiceField(queryset=Org.objects.none(), label="学校")
    file = forms.FileField(
        label="花名册文件",
        help_text="Excel（.xlsx）或 CSV（UTF-8 或 GBK），第一行为表头：学生姓名、学号、班级、家长姓名、关系、手机号",
    )
    dry_run = forms.BooleanField(label="仅预览（不写入）", required=False)

    def __init__(self, *args: Any, schools: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["school"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = schools
        if len(schools) == 1:
            field.initial = schools[0].pk
