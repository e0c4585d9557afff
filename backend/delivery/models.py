"""Who was told what, through which channel, with what result.

A `Dispatch` is one thing to tell (an event about a source object: notice 12 created);
a `Delivery` is that thing for one recipient. Both are unique by their natural keys, so
calling notify() twice for the same source and recipient writes and sends nothing new."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class Urgency(models.TextChoices):
    NORMAL = "normal", "普通"
    URGENT = "urgent", "紧急"


class Dispatch(models.Model):
    source_type = models.CharField(max_length=32)
    source_id = models.BigIntegerField()
    event_type = models.CharField(max_length=48)
    school = models.ForeignKey(
        "schools.Org", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    needs_attention = models.BooleanField(default=False)
    # What a recipient mutes to silence this (e.g. "conversation:12"); blank: not mutable.
    topic = models.CharField(max_length=64, blank=True)
    push_title = models.CharField(max_length=100, blank=True)
    push_body = models.CharField(max_length=200, blank=True)
    push_data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    sms_template = models.CharField(max_length=32, blank=True)
    sms_params = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    sms_sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "送达批次"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "event_type"], name="dispatch_unique_source_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_type}:{self.source_id} {self.event_type}"


class PushState(models.TextChoices):
    NONE = "none", "不推送"
    PENDING = "pending", "待推送"
    HELD = "held", "免打扰暂缓"
    DIGEST = "digest", "汇总推送"
    SENT = "sent", "已推送"
    FAILED = "failed", "推送失败"


class SmsState(models.TextChoices):
    NONE = "none", "不发短信"
    PENDING = "pending", "待发送"
    HELD = "held", "免打扰暂缓"
    QUEUED = "queued", "已交短信平台"
    REFUSED = "refused", "未发送"


class Delivery(models.Model):
    # One row per recipient of a fan-out, so (bench/README.md, receipts): no single-column
    # indexes (db_index=False; delivery_unique_recipient leads with the dispatch, (recipient,
    # dispatch) with the recipient) and no database foreign-key checks (db_constraint=False:
    # one trigger query per row and key). notify() writes rows only for a dispatch it holds
    # locked and recipients its caller read in the same transaction; the app never deletes
    # users, and an ORM delete still cascades (tests/conventions/test_fanout_tables.py).
    dispatch = models.ForeignKey(
        Dispatch, on_delete=models.CASCADE, related_name="deliveries", db_index=False, db_constraint=False
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Every channel this recipient was reached through so far ("websocket", "push", "sms").
    channels = models.JSONField(default=list)
    push_state = models.CharField(max_length=8, choices=PushState.choices, default=PushState.NONE)
    sms_state = models.CharField(max_length=8, choices=SmsState.choices, default=SmsState.NONE)
    sms_note = models.CharField(max_length=64, blank=True)
    # Per-recipient SMS slots (e.g. the child's class) merged over the dispatch's params.
    sms_params = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    held_until = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    escalation_step = models.PositiveSmallIntegerField(default=0)
    escalate_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "送达记录"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "recipient"], name="delivery_unique_recipient"),
        ]
        indexes = [
            models.Index(
                fields=["held_until"], condition=models.Q(held_until__isnull=False), name="delivery_held"
            ),
            models.Index(
                fields=["escalate_at"],
                condition=models.Q(escalate_at__isnull=False, acknowledged_at__isnull=True),
                name="delivery_escalation_due",
            ),
            models.Index(fields=["recipient", "dispatch"]),
        ]

    def __str__(self) -> str:
        return f"{self.dispatch} → {self.recipient_id}"


class PushAttempt(models.Model):
    """One push of one step of a delivery to one device: the idempotency key of a push."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="push_attempts")
    token = models.CharField(max_length=512)
    step = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=16, default="pending")
    attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "推送记录"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["delivery", "token", "step"], name="push_attempt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}/{self.step} {self.outcome}"


class DeliveryPreference(models.Model):
    class Digest(models.TextChoices):
        INSTANT = "instant", "即时"
        DAILY = "daily", "每日汇总"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    prefer_sms = models.BooleanField("优先短信", default=False)
    sms_enabled = models.BooleanField("接收非紧急短信", default=True)
    digest = models.CharField("非紧急推送", max_length=8, choices=Digest.choices, default=Digest.INSTANT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "通知偏好"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.user_id}"


class Mute(models.Model):
    """A recipient silenced one topic (a conversation) for push and SMS; the realtime
    event still arrives. Urgent items ignore mutes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=64)
    until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "免打扰"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="mute_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.topic}"
