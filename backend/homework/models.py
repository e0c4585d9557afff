"""Assignments (作业), students' submissions (提交, versioned) and teachers' feedback (批改/点评).

A student's submissions to one assignment are numbered versions 1, 2, …; the latest is
the current one (`is_current`), older ones are kept. Feedback belongs to one version and
is append-only: re-feedback adds a row and marks it current, so the history stays.
Homework belongs to the student: a guardian may submit for a young child (recorded in
`submitted_by`) but is never asked to check or grade anything (MOE 2021)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Assignment(models.Model):
    class Grading(models.TextChoices):
        SCORE = "score", "分数"
        GRADE = "grade", "等级"
        NONE = "none", "不评分"

    class GradeScale(models.TextChoices):
        LETTERS = "A-E", "A–E"
        WORDS = "优良中差", "优良中差"

    class SubmissionType(models.TextChoices):
        TEXT = "text", "文字"
        PHOTO = "photo", "图片"
        VOICE = "voice", "语音"
        VIDEO = "video", "视频"
        FILE = "file", "文件"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="布置教师",
    )
    author_name = models.CharField("布置教师姓名", max_length=64)
    # All classes of an assignment are in one school: its quiet hours and its
    # class-visibility settings (优秀作业) apply.
    school = models.ForeignKey("schools.Org", on_delete=models.PROTECT, related_name="+", verbose_name="学校")
    classes = models.ManyToManyField(
        "schools.SchoolClass", through="AssignmentClass", related_name="+", verbose_name="班级"
    )
    subject = models.CharField("学科", max_length=32)
    title = models.CharField("标题", max_length=100)
    instructions = models.TextField("作业要求", max_length=5000, blank=True)
    attachment_ids = models.JSONField("附件", default=list, blank=True)
    due_at = models.DateTimeField("截止时间")
    submission_types = models.JSONField("提交方式", default=list)
    grading = models.CharField("评分方式", max_length=8, choices=Grading.choices)
    max_score = models.PositiveSmallIntegerField("满分", null=True, blank=True)
    grade_scale = models.CharField("等级制", max_length=8, choices=GradeScale.choices, blank=True)
    allow_resubmit = models.BooleanField("允许重新提交", default=False)
    created_at = models.DateTimeField("布置时间", default=timezone.now)
    updated_at = models.DateTimeField("修改时间", default=timezone.now)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="关闭人",
    )

    class Meta:
        verbose_name = "作业"
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["author", "-id"], name="assignment_author_recent")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(grading="score") | Q(max_score__gte=1, max_score__lte=1000),
                name="assignment_score_has_max",
            ),
            models.CheckConstraint(
                condition=~Q(grading="grade") | ~Q(grade_scale=""),
                name="assignment_grade_has_scale",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class AssignmentClass(models.Model):
    """One class an assignment was given to."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="class_links")
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.CASCADE, related_name="homework_links", verbose_name="班级"
    )

    class Meta:
        verbose_name = "作业班级"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["assignment", "school_class"], name="assignment_class_unique"),
        ]
        indexes = [models.Index(fields=["school_class", "assignment"], name="assignment_by_class")]

    def __str__(self) -> str:
        return f"{self.assignment_id} @ {self.school_class_id}"


class Submission(models.Model):
    """One version of one student's work for one assignment."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="submissions", verbose_name="作业"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="学生"
    )
    # The class the student submitted in: which teachers see and correct it.
    school_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.CASCADE, related_name="+", verbose_name="班级"
    )
    version = models.PositiveSmallIntegerField("版本")
    is_current = models.BooleanField("当前版本", default=True)
    text = models.TextField("文字内容", max_length=5000, blank=True)
    attachment_ids = models.JSONField("附件", default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="提交人",
    )
    # The student's name, or "王小明妈妈" when a guardian submitted for a young child.
    submitted_by_label = models.CharField("提交人显示名", max_length=64)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    late = models.BooleanField("迟交", default=False)
    # The phone's id for this submit (retries return the first result) and a hash of
    # what was sent with it (a different body under the same id is refused).
    client_id = models.CharField("客户端编号", max_length=64)
    fingerprint = models.CharField(max_length=64)
    # When this version was last given feedback; null: not corrected yet.
    feedback_at = models.DateTimeField("批改时间", null=True, blank=True)

    class Meta:
        verbose_name = "作业提交"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student", "version"], name="submission_unique_version"
            ),
            models.UniqueConstraint(
                fields=["assignment", "student"],
                condition=Q(is_current=True),
                name="submission_one_current",
            ),
            models.UniqueConstraint(fields=["submitted_by", "client_id"], name="submission_unique_client_id"),
        ]
        indexes = [
            models.Index(
                fields=["assignment", "school_class"], condition=Q(is_current=True), name="submission_current"
            ),
            models.Index(fields=["student", "assignment"], name="submission_by_student"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}/{self.student_id} v{self.version}"


class Feedback(models.Model):
    """A teacher's correction of one submission version. Append-only: the newest row of
    a version is current, older rows are its history."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="feedbacks", verbose_name="提交"
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="批改教师",
    )
    teacher_name = models.CharField("批改教师姓名", max_length=64)
    score = models.DecimalField("分数", max_digits=5, decimal_places=1, null=True, blank=True)
    grade = models.CharField("等级", max_length=8, blank=True)
    comment = models.TextField("评语", max_length=1000, blank=True)
    voice_attachment_id = models.BigIntegerField("语音点评", null=True, blank=True)
    excellent = models.BooleanField("优秀作业", default=False)
    request_resubmit = models.BooleanField("要求重新提交", default=False)
    is_current = models.BooleanField("当前批改", default=True)
    created_at = models.DateTimeField("批改时间", default=timezone.now)

    class Meta:
        verbose_name = "作业批改"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["submission"], condition=Q(is_current=True), name="feedback_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} by {self.teacher_name}"
