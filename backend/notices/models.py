"""Class notices and their per-recipient receipts.

A `Notice` is its own object with read and confirm state (never a chat message, so
the notice that matters cannot drown under "收到" replies). Recipients are resolved
when it is published: one `NoticeReceipt` per person, a guardian with two children in
the audience gets one receipt naming both."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Notice(models.Model):
    class Audience(models.TextChoices):
        GUARDIANS = "guardians", "家长"
        STUDENTS = "students", "学生"
        ALL = "all", "家长和学生"

    class Scope(models.TextChoices):
        CLASSES = "classes", "班级"
        GRADES = "grades", "年级"
        SCHOOL = "school", "全校"
        ORG = "org", "辖区"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "定时待发"
        PUBLISHING = "publishing", "发送中"
        PUBLISHED = "published", "已发布"
        CANCELLED = "cancelled", "已取消"
        RECALLED = "recalled", "已撤回"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="发布人",
    )
    author_name = models.CharField("发布人姓名", max_length=64)
    # The narrowest org holding the whole audience (the school, or a bureau's county/city):
    # admins of this org or above may see stats and receipts.
    org = models.ForeignKey("schools.Org", on_delete=models.PROTECT, related_name="+", verbose_name="机构")
    # The school whose quiet hours and SMS account apply; null for multi-school notices.
    school = models.ForeignKey(
        "schools.Org", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="学校"
    )
    scope = models.CharField("范围", max_length=8, choices=Scope.choices)
    class_ids = models.JSONField("班级", default=list, blank=True)
    grade_ids = models.JSONField("年级", default=list, blank=True)
    # "三年级(1)班、三年级(2)班", "三年级", the school or bureau name: shown in lists
    # without loading the classes.
    target_label = models.CharField("发送对象", max_length=200)

    title = models.CharField("标题", max_length=50)
    body = models.TextField("正文", max_length=5000)
    attachment_ids = models.JSONField("附件", default=list, blank=True)
    audience = models.CharField("接收人", max_length=10, choices=Audience.choices)
    require_confirmation = models.BooleanField("需要回执", default=False)
    urgent = models.BooleanField("紧急", default=False)
    sms_fallback = models.BooleanField("无应用时发短信", default=True)

    status = models.CharField("状态", max_length=10, choices=Status.choices)
    scheduled_at = models.DateTimeField("定时发送", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    recalled_at = models.DateTimeField("撤回时间", null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    recipients_count = models.PositiveIntegerField("接收人数", default=0)
    read_count = models.PositiveIntegerField("已读", default=0)
    confirmed_count = models.PositiveIntegerField("已确认", default=0)

    # Fan-out progress: receipts exist for every recipient id <= fanout_cursor, so a
    # task that dies mid-way resumes after the last committed chunk. The heartbeat is set
    # while a publish or recall fan-out is under way (null when none is).
    fanout_cursor = models.BigIntegerField(default=0)
    fanout_heartbeat = models.DateTimeField(null=True, blank=True)
    # Recall fan-out progress (notice.recalled to receipts with id <= recall_cursor).
    recall_cursor = models.BigIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "班级通知"
        verbose_name_plural = verbose_name
        indexes = [
            models.Index(fields=["author", "-id"], name="notice_author_recent"),
            models.Index(
                fields=["scheduled_at"], condition=Q(status="scheduled"), name="notice_scheduled_due"
            ),
            # Fan-outs (publish or recall) still under way, for the sweeper.
            models.Index(
                fields=["fanout_heartbeat"],
                condition=Q(fanout_heartbeat__isnull=False),
                name="notice_fanout_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NoticeReceipt(models.Model):
    """One recipient of one notice, with their read and confirm state."""

    class Role(models.TextChoices):
        GUARDIAN = "guardian", "家长"
        STUDENT = "student", "学生"

    # Written once per recipient of a fan-out, so (bench/README.md, receipts):
    # - no single-column indexes (db_index=False): notice_receipt_unique and
    #   receipt_by_notice lead with the notice, receipt_inbox with the recipient;
    # - no database foreign-key checks (db_constraint=False; they were ~40 % of
    #   PostgreSQL's CPU for a fan-out, one trigger query per row and key). Rows are only
    #   written by the fan-out, for ids it read in the same transaction with the notice
    #   locked; the app never deletes users (privacy erasure anonymises them), and a
    #   delete through the ORM still cascades (tests/conventions/test_fanout_tables.py).
    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="receipts", db_index=False, db_constraint=False
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    role = models.CharField("身份", max_length=8, choices=Role.choices)
    # How the author sees this person: "王小明妈妈" (never a phone number), or the student.
    display_name = models.CharField("显示名", max_length=64)
    # The children (or the student) this receipt is for: [{"id", "name", "class_name"}].
    # Snapshotted at publish so receipt pages need no joins.
    students = models.JSONField("学生", default=list)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "通知回执"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["notice", "recipient"], name="notice_receipt_unique"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="receipt_inbox"),
            models.Index(fields=["notice", "id"], name="receipt_by_notice"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="receipt_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.recipient_id}"
