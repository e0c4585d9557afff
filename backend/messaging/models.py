"""Class discussions, direct teacher–guardian chats, their messages, reports, the
per-school sensitive-word list and teachers' office hours."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models


def _default_weekdays() -> list[int]:
    return [1, 2, 3, 4, 5]


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DISCUSSION = "discussion", "班级讨论"
        DIRECT = "direct", "私聊"

    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    school = models.ForeignKey("schools.Org", on_delete=models.CASCADE, related_name="+", verbose_name="学校")
    school_class = models.ForeignKey(
        "schools.SchoolClass",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="班级",
    )
    # The child a direct chat is about (shown to the teacher as context).
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="相关学生",
    )
    title = models.CharField("主题", max_length=100, blank=True)
    allow_students = models.BooleanField("允许学生发言", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="创建人",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    pinned_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="置顶消息"
    )
    # "<low user id>:<high user id>:<student id or 0>": one direct chat per pair and child.
    direct_key = models.CharField("私聊键", max_length=64, null=True, blank=True, unique=True)
    last_message_id = models.BigIntegerField("最新消息", default=0)
    # The office-hours window (its start, ISO) in which the automatic reply was sent.
    auto_reply_window = models.CharField("自动回复时段", max_length=40, blank=True)

    class Meta:
        verbose_name = "会话"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.title or f"私聊 #{self.pk}"


class Member(models.Model):
    class Role(models.TextChoices):
        TEACHER = "teacher", "教师"
        GUARDIAN = "guardian", "家长"
        STUDENT = "student", "学生"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField("身份", max_length=16, choices=Role.choices)
    display_name = models.CharField("显示名", max_length=64)
    last_read_id = models.BigIntegerField("已读到", default=0)
    muted_until = models.DateTimeField("禁言至", null=True, blank=True)
    # A teacher's push held until their office hours start (see office_hours.py).
    push_due_at = models.DateTimeField("推送暂缓至", null=True, blank=True)
    joined_at = models.DateTimeField("加入时间", auto_now_add=True)

    class Meta:
        verbose_name = "会话成员"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="member_unique")]
        indexes = [models.Index(fields=["user", "conversation"])]

    def __str__(self) -> str:
        return self.display_name


class Message(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", "正常"
        HELD = "held", "待审核"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Frozen at send time so history renders without joins ("王小明妈妈", "张老师").
    sender_name = models.CharField("发送人", max_length=64)
    is_system = models.BooleanField("系统消息", default=False)
    body = models.TextField("内容", max_length=2000)
    # What the sender typed, kept when a filter changed `body` (for review).
    original_body = models.TextField("原文", blank=True)
    attachment_ids = models.JSONField("附件", default=list, blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    client_id = models.CharField("客户端编号", max_length=64, blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.VISIBLE)
    moderation = models.JSONField("审核命中", default=list, blank=True)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "消息"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=~models.Q(client_id=""),
                name="message_client_id_unique",
            )
        ]
        indexes = [models.Index(fields=["conversation", "id"])]

    def __str__(self) -> str:
        return f"{self.sender_name}: {self.body[:20]}"


class Report(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        DELETED = "deleted", "已删除消息"
        KEPT = "kept", "保留"

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reports", verbose_name="消息"
    )
    # Null for the filter's own hold ("block" words): held messages wait in the same queue.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="举报人",
    )
    reason = models.CharField("原因", max_length=200)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("举报时间", auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息举报"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="report_unique")]

    def __str__(self) -> str:
        return f"举报 #{self.pk}"


class SensitiveWord(models.Model):
    class Policy(models.TextChoices):
        BLOCK = "block", "拦截待审"
        MASK = "mask", "打码"

    school = models.ForeignKey("schools.Org", on_delete=models.CASCADE, related_name="+", verbose_name="学校")
    word = models.CharField("敏感词", max_length=50)
    policy = models.CharField("处理方式", max_length=8, choices=Policy.choices, default=Policy.MASK)

    class Meta:
        verbose_name = "敏感词"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["school", "word"], name="sensitive_word_unique")]

    def __str__(self) -> str:
        return self.word


class OfficeHours(models.Model):
    teacher = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="教师"
    )
    # ISO weekdays, 1 = Monday.
    weekdays = models.JSONField("工作日", default=_default_weekdays)
    start = models.TimeField("开始", default=time(7, 30))
    end = models.TimeField("结束", default=time(18, 0))

    class Meta:
        verbose_name = "办公时间"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.teacher} {self.start}-{self.end}"
