"""The realtime event log: every event a user is told about, numbered per user.

The database is the truth; the websocket only hints. A client that missed something
asks for what came after the last `seq` it saw (resume, or GET /api/v1/events/)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class UserEventCounter(models.Model):
    """The last sequence number handed out to one user. Its row lock serialises
    concurrent senders, which is what keeps `seq` gap-free."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField("最后序号", default=0)

    class Meta:
        verbose_name = "实时事件计数器"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"user {self.pk}: {self.last_seq}"


class UserEvent(models.Model):
    """One event for one user, as it was (or would have been) sent on the socket."""

    # One row per recipient of every event, so: db_index=False (realtime_event_user_seq_unique
    # leads with the user) and db_constraint=False (no foreign-key trigger query per row;
    # events are written for users the sender just read, the app never deletes users, and an
    # ORM delete still cascades: tests/conventions/test_fanout_tables.py).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    seq = models.PositiveBigIntegerField("序号")
    type = models.CharField("类型", max_length=64)
    data = models.JSONField("内容", encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "实时事件"
        verbose_name_plural = verbose_name
        constraints = [
            # Also the index every replay walks: (user, seq > N) in seq order.
            models.UniqueConstraint(fields=["user", "seq"], name="realtime_event_user_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}#{self.seq} {self.type}"
