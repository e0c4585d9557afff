"""SMS accounts (豫教短信 style), their ledger, mass-texting jobs, messages, unsubscribes
and parent replies.

Balances are derived from `LedgerEntry` rows. `SmsAccount.balance` / `.reserved` are a
cache written in the same transaction as every ledger row (see services/ledger.py), and
check constraints make an overdraft impossible even for a buggy caller."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class SmsAccount(models.Model):
    """An SMS account of a bureau or a school, or a teacher's allowance under a school
    account (`owner` set). Quotas are in billed segments."""

    name = models.CharField("账户名称", max_length=100)
    org = models.ForeignKey(
        "schools.Org", on_delete=models.PROTECT, related_name="+", verbose_name="所属机构"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="教师（额度账户）",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="上级账户",
    )
    signature = models.CharField("短信签名", max_length=32, help_text="例如【洛阳市西工区示范小学】")
    # Appended to the sender port so that replies (上行) come back to this account.
    extension_code = models.CharField("扩展码", max_length=8, unique=True, null=True, blank=True)
    frozen = models.BooleanField("已冻结", default=False)
    # Cache of the ledger sums (see module docstring); never edited by hand.
    balance = models.BigIntegerField("余额（条）", default=0, editable=False)
    reserved = models.BigIntegerField("预占（条）", default=0, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "短信账户"
        verbose_name_plural = verbose_name
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(reserved__gte=0), name="sms_account_reserved_not_negative"),
            models.CheckConstraint(condition=Q(balance__gte=F("reserved")), name="sms_account_no_overdraft"),
            # One organisation account per org; allowances are unique per teacher and org.
            models.UniqueConstraint(
                fields=["org"], condition=Q(owner__isnull=True), name="sms_account_one_per_org"
            ),
            models.UniqueConstraint(
                fields=["org", "owner"], condition=Q(owner__isnull=False), name="sms_account_one_allowance"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def available(self) -> int:
        return self.balance - self.reserved


class LedgerEntry(models.Model):
    """One movement of segments. `segments` changes the balance (owned segments),
    `held` changes the reservations; available = Σsegments − Σheld."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", "充值"
        TRANSFER_IN = "transfer_in", "划入"
        TRANSFER_OUT = "transfer_out", "划出"
        RESERVE = "reserve", "预占"
        CHARGE = "charge", "扣费"
        REFUND = "refund", "退还（发送失败）"
        RELEASE = "release", "释放（未发送）"

    account = models.ForeignKey(
        SmsAccount, on_delete=models.PROTECT, related_name="ledger", verbose_name="账户"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    segments = models.BigIntegerField("余额变动（条）", default=0)
    held = models.BigIntegerField("预占变动（条）", default=0)
    counterparty = models.ForeignKey(
        SmsAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="对方账户",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    memo = models.CharField("备注", max_length=200, blank=True)
    ref = models.CharField("关联", max_length=160, blank=True, db_index=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "账户流水"
        verbose_name_plural = verbose_name
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "id"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.segments:+d}/{self.held:+d}"


class SmsJob(models.Model):
    """A mass text (群发短信) to an audience, funded by one account."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "等待免打扰结束"
        SENDING = "sending", "发送中"
        COMPLETED = "completed", "已完成"

    account = models.ForeignKey(
        SmsAccount, on_delete=models.PROTECT, related_name="jobs", verbose_name="账户"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="发送人",
    )
    audience = models.JSONField("发送对象", default=dict, encoder=DjangoJSONEncoder)
    template = models.CharField("模板", max_length=32, blank=True)
    params = models.JSONField("模板参数", default=dict, encoder=DjangoJSONEncoder)
    text = models.TextField("短信内容", help_text="收件人看到的内容（含签名）")
    urgent = models.BooleanField("紧急", default=False)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.SENDING)
    total = models.PositiveIntegerField("收件人数", default=0)
    segments_per_message = models.PositiveSmallIntegerField("每条计费条数", default=1)
    excluded = models.JSONField("排除", default=dict, encoder=DjangoJSONEncoder)
    not_before = models.DateTimeField("计划发送时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "群发任务"
        verbose_name_plural = verbose_name
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"群发 #{self.pk}"

    @property
    def source(self) -> str:
        return f"job:{self.pk}"


class MessageState(models.TextChoices):
    QUEUED = "queued", "排队中"
    SUBMITTING = "submitting", "提交中"
    SUBMITTED = "submitted", "已提交"
    DELIVERED = "delivered", "已送达"
    FAILED = "failed", "失败"
    DEFERRED = "deferred", "延后重试"
    AMBIGUOUS = "ambiguous", "待核对"
    UNKNOWN = "unknown", "状态未知"


class Billing(models.TextChoices):
    RESERVED = "reserved", "预占"
    CHARGED = "charged", "已扣费"
    REFUNDED = "refunded", "已退还"


class SmsMessage(models.Model):
    """One text to one number. Unique per (source, phone): a retried or re-run send finds
    the row and never texts the number twice."""

    account = models.ForeignKey(SmsAccount, on_delete=models.PROTECT, related_name="+", verbose_name="账户")
    job = models.ForeignKey(
        SmsJob,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name="群发任务",
    )
    # "job:12" or the delivery pipeline's "notice:12:notice.created:0".
    source = models.CharField("来源", max_length=160)
    phone = models.CharField("手机号", max_length=11)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        verbose_name="收件人",
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        verbose_name="发送人",
    )
    template = models.CharField("模板", max_length=32)
    template_code = models.CharField("模板代码", max_length=64)
    params = models.JSONField("模板参数", default=dict, encoder=DjangoJSONEncoder)
    text = models.TextField("内容（含签名）")
    signature = models.CharField("签名", max_length=32)
    extension_code = models.CharField("扩展码", max_length=8, blank=True)
    segments = models.PositiveSmallIntegerField("计费条数")
    urgent = models.BooleanField("紧急", default=False)
    state = models.CharField(
        "状态", max_length=16, choices=MessageState.choices, default=MessageState.QUEUED, db_index=True
    )
    billing = models.CharField("计费", max_length=16, choices=Billing.choices, default=Billing.RESERVED)
    biz_id = models.CharField("回执编号", max_length=64, blank=True)
    # Unique per submission attempt; echoed by the provider in reports and status queries.
    out_id = models.CharField("提交编号", max_length=32, blank=True)
    error_code = models.CharField("错误码", max_length=64, blank=True)
    error_message = models.CharField("错误说明", max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField("提交次数", default=0)
    not_before = models.DateTimeField("最早发送时间", null=True, blank=True)
    next_attempt_at = models.DateTimeField("下次重试", null=True, blank=True)
    queued_at = models.DateTimeField("排队时间", default=timezone.now)
    submitting_at = models.DateTimeField("提交开始", null=True, blank=True)
    submitted_at = models.DateTimeField("提交成功", null=True, blank=True)
    deferred_at = models.DateTimeField("延后时间", null=True, blank=True)
    ambiguous_at = models.DateTimeField("待核对时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    failed_at = models.DateTimeField("失败时间", null=True, blank=True)
    unknown_at = models.DateTimeField("判定未知时间", null=True, blank=True)

    class Meta:
        verbose_name = "短信"
        verbose_name_plural = verbose_name
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "phone"], name="sms_message_once_per_source")
        ]
        indexes = [
            models.Index(fields=["job", "state"]),
            models.Index(fields=["biz_id"]),
            models.Index(fields=["out_id"]),
            models.Index(fields=["phone", "account", "id"]),
            models.Index(fields=["user", "source"]),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.state}"


class SmsUnsubscribe(models.Model):
    """A number that replied T/TD/退订: no more non-urgent texts."""

    phone = models.CharField("手机号", max_length=11, unique=True)
    reply = models.ForeignKey(
        "SmsReply",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="退订短信",
    )
    account = models.ForeignKey(
        SmsAccount,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="回复到账户",
    )
    created_at = models.DateTimeField("退订时间", auto_now_add=True)

    class Meta:
        verbose_name = "退订号码"
        verbose_name_plural = verbose_name
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.phone


class SmsReply(models.Model):
    """A parent's reply (上行短信). Every reply is kept; `routed_to` says which handler
    (or "unsubscribe") took it, and unrouted ones are shown to school admins."""

    phone = models.CharField("手机号", max_length=11)
    content = models.CharField("内容", max_length=500)
    account = models.ForeignKey(
        SmsAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="账户"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        verbose_name="发送人",
    )
    source = models.CharField("回复的短信来源", max_length=160, blank=True)
    dest_code = models.CharField("扩展码", max_length=32, blank=True)
    sequence_id = models.BigIntegerField("上行序号", null=True, blank=True)
    routed_to = models.CharField("转交给", max_length=32, blank=True)
    handled = models.BooleanField("已处理", default=False)
    received_at = models.DateTimeField("接收时间", default=timezone.now)

    class Meta:
        verbose_name = "家长回复"
        verbose_name_plural = verbose_name
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone", "sequence_id"],
                condition=Q(sequence_id__isnull=False),
                name="sms_reply_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone}: {self.content[:20]}"
