"""The org tree (province → city → county → school), grades, classes, memberships,
guardianship and admin roles. Scope for every other app is derived from these rows."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from treebeard.mp_tree import MP_Node


class Org(MP_Node):
    """A node of the education tree. Subtree queries are one `path LIKE 'prefix%'` query
    (materialized path), so a bureau's whole district is one indexed range scan."""

    class Kind(models.TextChoices):
        PROVINCE = "province", "省"
        CITY = "city", "市"
        COUNTY = "county", "县/区"
        SCHOOL = "school", "学校"

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("层级", max_length=16, choices=Kind.choices)
    code = models.CharField("机构代码", max_length=32, blank=True)

    # School settings (meaningful for kind=school only).
    quiet_hours_start = models.TimeField("免打扰开始", default=time(21, 0))
    quiet_hours_end = models.TimeField("免打扰结束", default=time(7, 0))
    escalation_delay_minutes = models.PositiveIntegerField("未读提醒延迟（分钟）", default=30)
    allow_class_visibility = models.BooleanField("允许班级内公开打卡/优秀作业", default=False)
    allow_names_public = models.BooleanField("公开展示时显示学生姓名", default=False)
    allow_guardian_chats = models.BooleanField("允许家长之间私聊", default=False)

    # No node_order_by on purpose: sorted siblings would make every insert rewrite the
    # paths of the later siblings' whole subtrees, leaving Org objects (and paths) held in
    # memory stale. Appending keeps paths stable; order by name in queries instead.

    class Meta:
        verbose_name = "机构"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.name


class Grade(models.Model):
    school = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="grades", verbose_name="学校")
    name = models.CharField("年级", max_length=32)
    level = models.PositiveSmallIntegerField("年级序号", default=0)

    class Meta:
        verbose_name = "年级"
        verbose_name_plural = verbose_name
        ordering = ["school_id", "level", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="grade_unique_name")]

    def __str__(self) -> str:
        return self.name


class SchoolClass(models.Model):
    school = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="classes", verbose_name="学校")
    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="classes", verbose_name="年级")
    name = models.CharField("班级", max_length=64)

    class Meta:
        verbose_name = "班级"
        verbose_name_plural = verbose_name
        ordering = ["school_id", "grade__level", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="class_unique_name")]

    def __str__(self) -> str:
        return self.name


class ClassMembership(models.Model):
    class Role(models.TextChoices):
        TEACHER = "teacher", "教师"
        STUDENT = "student", "学生"

    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.CASCADE, related_name="memberships", verbose_name="班级"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="class_memberships",
        verbose_name="成员",
    )
    role = models.CharField("身份", max_length=16, choices=Role.choices)
    is_head_teacher = models.BooleanField("班主任", default=False)
    subject = models.CharField("任教学科", max_length=32, blank=True)
    joined_at = models.DateTimeField("加入时间", auto_now_add=True)

    class Meta:
        verbose_name = "班级成员"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["school_class", "user"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["school_class"],
                condition=models.Q(is_head_teacher=True),
                name="one_head_teacher_per_class",
            ),
        ]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.school_class} ({self.get_role_display()})"


class Guardianship(models.Model):
    class Relation(models.TextChoices):
        FATHER = "父亲", "父亲"
        MOTHER = "母亲", "母亲"
        PATERNAL_GRANDFATHER = "爷爷", "爷爷"
        PATERNAL_GRANDMOTHER = "奶奶", "奶奶"
        MATERNAL_GRANDFATHER = "外公", "外公"
        MATERNAL_GRANDMOTHER = "外婆", "外婆"
        OTHER = "其他", "其他"

    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="guardianships",
        verbose_name="监护人",
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guardian_links", verbose_name="学生"
    )
    relation = models.CharField("关系", max_length=8, choices=Relation.choices)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "监护关系"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["guardian", "student"], name="guardianship_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.student}{self.relation}"


class OrgAdmin(models.Model):
    """A school admin or a bureau admin; their scope is the subtree under `org`."""

    class Role(models.TextChoices):
        SCHOOL_ADMIN = "school_admin", "学校管理员"
        BUREAU_ADMIN = "bureau_admin", "教育局管理员"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="admins", verbose_name="机构")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_roles", verbose_name="用户"
    )
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "机构管理员"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="org_admin_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} @ {self.org}"


class RosterImport(models.Model):
    """One roster file a school admin imported: who, which file, what happened row by row.

    Only files that could be read are recorded; a broken file is refused before anything
    is written (see backend/schools/roster)."""

    class Status(models.TextChoices):
        COMPLETED = "completed", "全部导入"
        PARTIAL = "partial", "部分导入"
        REJECTED = "rejected", "全部拒绝"
        # A dry run (preview) is reported but never stored.
        PREVIEW = "preview", "预览"

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (xlsx)"
        CSV = "csv", "CSV"

    school = models.ForeignKey(
        Org, on_delete=models.CASCADE, related_name="roster_imports", verbose_name="学校"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="上传人",
    )
    file_name = models.CharField("文件名", max_length=255)
    file_format = models.CharField("文件格式", max_length=8, choices=Format.choices)
    encoding = models.CharField("文本编码", max_length=16, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变化", default=0)
    rejected_count = models.PositiveIntegerField("拒绝", default=0)
    rows = models.JSONField("逐行结果", default=list, blank=True)
    created_at = models.DateTimeField("开始时间", default=timezone.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "花名册导入"
        verbose_name_plural = verbose_name
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"
