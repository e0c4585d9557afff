"""Guardian consent for processing a minor's data (PIPL art. 28/31), and the family's
requests to export or erase that data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class GuardianConsent(models.Model):
    """One guardian's consent for one child under one version of the policy text.

    Withdrawal keeps the row (withdrawn_at) so the history of consent stays provable."""

    class Scope(models.TextChoices):
        BASIC = "basic", "基本信息处理（花名册、通知、打卡、作业）"

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="学生"
    )
    guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="监护人"
    )
    scope = models.CharField("范围", max_length=16, choices=Scope.choices, default=Scope.BASIC)
    policy_version = models.CharField("政策版本", max_length=32)
    granted_at = models.DateTimeField("同意时间", default=timezone.now)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        verbose_name = "监护人同意"
        verbose_name_plural = verbose_name
        ordering = ["-id"]
        constraints = [
            # One live consent per guardian, child and scope; withdrawn ones stay as history.
            models.UniqueConstraint(
                fields=["guardian", "student", "scope"],
                condition=Q(withdrawn_at__isnull=True),
                name="privacy_one_active_consent",
            ),
        ]
        indexes = [models.Index(fields=["student", "scope"])]

    def __str__(self) -> str:
        return f"consent #{self.pk} student={self.student_id} scope={self.scope}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "处理中"
    READY = "ready", "已完成"
    FAILED = "failed", "失败"


class DataExport(models.Model):
    """A guardian's request for a copy of the family's data (a ZIP of JSON files)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="申请人"
    )
    status = models.CharField(
        "状态", max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    file_path = models.CharField("文件", max_length=255, blank=True)
    size = models.PositiveIntegerField("大小", default=0)
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    expires_at = models.DateTimeField("下载截止", null=True, blank=True)

    class Meta:
        verbose_name = "数据导出"
        verbose_name_plural = verbose_name
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"export #{self.pk} {self.status}"


class DataDeletion(models.Model):
    """A guardian's request to erase the family's personal data. The row survives the
    erasure (ids only) so the school and auditors can see it happened."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="申请人",
    )
    student_ids = models.JSONField("学生编号", default=list)
    status = models.CharField(
        "状态", max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    summary = models.JSONField("处理结果", default=dict, blank=True)
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "数据删除"
        verbose_name_plural = verbose_name
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"deletion #{self.pk} {self.status}"
