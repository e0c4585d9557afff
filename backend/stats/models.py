"""Usage scoring per seed 003 (区平台深度应用评价表): the stored weekly scores and the
evidence behind each point. Computed by a scheduled job (services.stats_compute_week);
request-time reads only aggregate these rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ScoreRow(models.TextChoices):
    """The rows of the 003 table the product covers (二级分类)."""

    CLASS_SETUP = "class_setup", "班级组建"
    CLASS_NOTICE = "class_notice", "班级通知"
    CLASS_ACTIVITY = "class_activity", "班级活动"
    HABIT = "habit", "习惯养成"
    CORRECTION = "correction", "练习批阅"
    GUIDED_TEST = "guided_test", "导学检测"
    LOGIN = "login", "空间登录"
    PROFILE = "profile", "信息完善"


class DailyActivity(models.Model):
    """One row per user and day (Asia/Shanghai) on which the user logged in or used the app."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField("日期")
    created_at = models.DateTimeField("记录时间", default=timezone.now)

    class Meta:
        verbose_name = "每日登录"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="daily_activity_unique")]
        indexes = [models.Index(fields=["date", "user"], name="daily_activity_by_date")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.date}"


class ProfileCompletion(models.Model):
    """The first day (in a calendar year) the scoring job saw a teacher's profile complete.

    Profiles carry no history, so 信息完善 is scored in the week of this observation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    observed_on = models.DateField("首次完善日期")

    class Meta:
        verbose_name = "信息完善记录"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["user", "year"], name="profile_completion_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.year} {self.observed_on}"


class TeacherWeekScore(models.Model):
    """Points one teacher earned on one row of the table in one week (Monday, Asia/Shanghai)."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="教师"
    )
    # The teacher's school at computation time; subtree totals join on its path.
    school = models.ForeignKey("schools.Org", on_delete=models.CASCADE, related_name="+", verbose_name="学校")
    week = models.DateField("周（周一）")
    row = models.CharField("项目", max_length=16, choices=ScoreRow.choices)
    points = models.PositiveIntegerField("得分", default=0)
    detail = models.JSONField("明细", default=dict, blank=True)
    computed_at = models.DateTimeField("计算时间", default=timezone.now)

    class Meta:
        verbose_name = "教师周积分"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["teacher", "week", "row"], name="teacher_week_score_unique")
        ]
        indexes = [models.Index(fields=["week", "school"], name="week_score_by_school")]

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.week} {self.row} {self.points}"


class ScoreEvidence(models.Model):
    """What earned (or, past a cap, did not earn) points: a notice, a check-in campaign,
    an assignment, a login day, a class, the profile."""

    score = models.ForeignKey(TeacherWeekScore, on_delete=models.CASCADE, related_name="evidence")
    source_type = models.CharField("来源类型", max_length=24)
    source_id = models.BigIntegerField("来源编号", null=True, blank=True)
    label = models.CharField("说明", max_length=200)
    day = models.DateField("日期")
    points = models.PositiveIntegerField("得分", default=0)
    # Qualified but past the row's weekly/yearly cap: kept so the teacher sees why it scored 0.
    capped = models.BooleanField("超出上限", default=False)
    figures = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = "积分依据"
        verbose_name_plural = verbose_name
        ordering = ["score_id", "day", "id"]

    def __str__(self) -> str:
        return f"{self.source_type}#{self.source_id} {self.points}"


class Dashboard(TeacherWeekScore):
    """Not a table: the admin page /admin/stats/dashboard/ (charts of the stored scores)."""

    class Meta:
        proxy = True
        verbose_name = "积分看板"
        verbose_name_plural = verbose_name
