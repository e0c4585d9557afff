"""Habit check-in campaigns (习惯养成打卡), daily check-ins, teacher feedback, reminders.

A check-in belongs to the student (MOE 2021: no homework for parents); a guardian may
submit it for a young child and is recorded as `submitted_by`. Nothing here keeps a
campaign-wide counter: 2,000 students checking in within one minute insert their own rows
and never update a shared one; counts come from aggregates over (campaign, date)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ContentType(models.TextChoices):
    """What a check-in may be required to contain."""

    TEXT = "text", "文字"
    PHOTO = "photo", "照片"
    VOICE = "voice", "语音"
    VIDEO = "video", "视频"


class CheckinCampaign(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"

    school = models.ForeignKey("schools.Org", on_delete=models.PROTECT, related_name="+", verbose_name="学校")
    classes = models.ManyToManyField(
        "schools.SchoolClass", through="CheckinCampaignClass", related_name="+", verbose_name="班级"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="发起教师",
    )
    created_by_name = models.CharField("发起教师姓名", max_length=64)
    title = models.CharField("标题", max_length=50)
    description = models.TextField("说明", max_length=2000, blank=True)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    # ISO weekdays (1 = Monday … 7 = Sunday) the campaign runs on, ascending.
    weekdays = models.JSONField("打卡日（周几）", default=list)
    # What every check-in must contain: a subset of ContentType values ([] = a tap is enough).
    content_types = models.JSONField("必需内容", default=list, blank=True)
    makeup_days = models.PositiveSmallIntegerField("可补卡天数", default=0)
    remind_at = models.TimeField("提醒时间", null=True, blank=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "打卡活动"
        verbose_name_plural = verbose_name
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="campaign_end_after_start"
            ),
            models.CheckConstraint(condition=Q(makeup_days__lte=7), name="campaign_makeup_days_max_7"),
        ]
        indexes = [
            # The reminder sweep: open campaigns with a reminder time.
            models.Index(
                fields=["remind_at"],
                condition=Q(status="open", remind_at__isnull=False),
                name="campaign_remind_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CheckinCampaignClass(models.Model):
    campaign = models.ForeignKey(CheckinCampaign, on_delete=models.CASCADE, related_name="campaign_classes")
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.CASCADE, related_name="+", verbose_name="班级"
    )

    class Meta:
        verbose_name = "打卡活动班级"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["campaign", "school_class"], name="campaign_class_unique"),
        ]
        indexes = [models.Index(fields=["school_class", "campaign"], name="campaign_class_by_class")]

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.school_class_id}"


class Checkin(models.Model):
    """One student's check-in for one campaign day (at most one per day)."""

    campaign = models.ForeignKey(
        CheckinCampaign, on_delete=models.CASCADE, related_name="checkins", verbose_name="打卡活动"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="学生"
    )
    # The student's class in the campaign when they checked in: teachers see the check-ins
    # of the classes they teach, and stats group by it.
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.CASCADE, related_name="+", verbose_name="班级"
    )
    date = models.DateField("打卡日期")
    is_makeup = models.BooleanField("补卡", default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="提交人",
    )
    # "王小明" (the student) or "王小明妈妈" (a guardian), as the class knows them.
    submitted_by_name = models.CharField("提交人显示名", max_length=64)
    text = models.TextField("文字", max_length=2000, blank=True)
    attachment_ids = models.JSONField("附件", default=list, blank=True)
    # What this check-in contains (ContentType values), derived at submission.
    content_types = models.JSONField("内容类型", default=list, blank=True)
    client_id = models.CharField("客户端编号", max_length=64)
    created_at = models.DateTimeField("提交时间", default=timezone.now)
    # When the class's teachers were told (`checkin.created`); null until then. The
    # database, not the task queue, knows what is still to announce (notifications.py).
    announced_at = models.DateTimeField("通知老师时间", null=True, blank=True)

    class Meta:
        verbose_name = "打卡记录"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["campaign", "student", "date"], name="checkin_once_per_day"),
            models.UniqueConstraint(
                fields=["campaign", "submitted_by", "client_id"], name="checkin_client_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "date"], name="checkin_by_day"),
            # Only the few check-ins not yet announced: a class's batch, the sweeper.
            models.Index(
                fields=["school_class", "id"],
                condition=Q(announced_at__isnull=True),
                name="checkin_unannounced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.student_id} {self.date}"


class CheckinComment(models.Model):
    checkin = models.ForeignKey(
        Checkin, on_delete=models.CASCADE, related_name="comments", verbose_name="打卡记录"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="点评人",
    )
    author_name = models.CharField("点评人姓名", max_length=64)
    text = models.TextField("点评", max_length=1000)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "打卡点评"
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["checkin", "id"], name="checkin_comment_by_checkin")]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:20]}"


class CheckinLike(models.Model):
    """A teacher's like. Unliking keeps the row inactive, so like → unlike → like tells the
    family once, not three times."""

    checkin = models.ForeignKey(
        Checkin, on_delete=models.CASCADE, related_name="likes", verbose_name="打卡记录"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="点赞人"
    )
    active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "打卡点赞"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["checkin", "user"], name="checkin_like_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.checkin_id}"


class CheckinReminder(models.Model):
    """The reminder of one campaign day; its uniqueness makes the minute sweep remind once."""

    campaign = models.ForeignKey(
        CheckinCampaign, on_delete=models.CASCADE, related_name="reminders", verbose_name="打卡活动"
    )
    date = models.DateField("日期")
    students = models.PositiveIntegerField("未打卡学生数", default=0)
    recipients = models.PositiveIntegerField("提醒人数", default=0)
    created_at = models.DateTimeField("提醒时间", default=timezone.now)

    class Meta:
        verbose_name = "打卡提醒"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["campaign", "date"], name="checkin_reminder_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.date}"


class CheckinAlias(models.Model):
    """A student's pseudonym in one campaign ("同学A"), shown to classmates when the school
    does not allow names in public. Numbers are assigned in a random order at creation
    (never roster order, which would give names away) and never change."""

    campaign = models.ForeignKey(CheckinCampaign, on_delete=models.CASCADE, related_name="aliases")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()

    class Meta:
        verbose_name = "打卡化名"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["campaign", "student"], name="checkin_alias_student_unique"),
            models.UniqueConstraint(fields=["campaign", "number"], name="checkin_alias_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.student_id} #{self.number}"
