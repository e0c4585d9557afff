"""Writes of notices: post (now or scheduled), cancel, recall, read, confirm, remind.

Validate, then act: every check runs before the first write, so a refused request
leaves no notice, no receipt and sends nothing. Side effects (events, push, SMS,
tasks) are announced on commit by the pipelines they go through."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError, not_found
from backend.delivery.services import delivery_acknowledge, delivery_remind
from backend.files.services import files_claim
from backend.realtime.services import send_event_on_commit

from . import fanout, tasks
from .events import NOTICE_CREATED, NOTICE_RECEIPT_UPDATED
from .models import Notice, NoticeReceipt
from .selectors import notices_managed_by
from .targets import check_content, invalid, resolve_target

CONFIRM_REPLIES = frozenset({"1", "确认"})


def _setting_seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=int(getattr(settings, name, default)))


def reminder_interval() -> timedelta:
    return _setting_seconds("NOTICES_REMINDER_INTERVAL_SECONDS", 600)


def _eta_horizon() -> timedelta:
    # Celery holds eta tasks in worker memory and Redis redelivers them after the
    # visibility timeout; far-off notices are left to the every-minute sweeper.
    return _setting_seconds("NOTICES_ETA_HORIZON_SECONDS", 6 * 3600)


def notice_create(
    *,
    author: Any,
    title: str,
    body: str,
    audience: str,
    class_ids: list[int] | None = None,
    grade_ids: list[int] | None = None,
    school_id: int | None = None,
    org_id: int | None = None,
    require_confirmation: bool = False,
    urgent: bool = False,
    sms_fallback: bool = True,
    scheduled_at: datetime | None = None,
    attachment_ids: list[int] | None = None,
    ip: str | None = None,
) -> Notice:
    """Post a notice now or at `scheduled_at`.

    Now: audiences up to NOTICES_SYNC_FANOUT_LIMIT are published inside this
    transaction (status "published"); larger ones answer status "publishing" and a task
    completes them. Urgent notices are audited. Raises ApiError (nothing written) for
    bad content, a foreign target (unknown_ids), a past schedule or an empty audience."""
    attachments = list(attachment_ids or [])
    title, body = check_content(title=title, body=body, audience=audience, attachment_ids=attachments)
    files_claim(ids=attachments, owner=author)
    now = timezone.now()
    if scheduled_at is not None and scheduled_at <= now:
        raise invalid("scheduled_at", "定时发送时间必须晚于当前时间", code="scheduled_in_past")
    target = resolve_target(
        author=author, class_ids=class_ids, grade_ids=grade_ids, school_id=school_id, org_id=org_id
    )
    with transaction.atomic():
        notice = Notice(
            author=author,
            author_name=str(getattr(author, "name", "") or "")[:64],
            org=target.org,
            school=target.school,
            scope=target.scope,
            class_ids=target.class_ids,
            grade_ids=target.grade_ids,
            target_label=target.label,
            title=title,
            body=body,
            attachment_ids=attachments,
            audience=audience,
            require_confirmation=require_confirmation,
            urgent=urgent,
            sms_fallback=sms_fallback,
            status=Notice.Status.SCHEDULED if scheduled_at else Notice.Status.PUBLISHING,
            scheduled_at=scheduled_at,
            published_at=None if scheduled_at else now,
            fanout_heartbeat=None if scheduled_at else now,
            created_at=now,
        )
        classes = fanout.target_classes(notice)
        size: int | None = None
        audience_ids: list[int] | None = None
        if scheduled_at is None:
            # Small enough to publish inside this request: its audience, read once here
            # (None: larger, a task publishes it).
            audience_ids = fanout.audience_if_small(notice, classes, limit=fanout.sync_fanout_limit())
            size = None if audience_ids is None else len(audience_ids)
        else:
            size = fanout.audience_size(classes=classes, audience=audience)
        if size == 0:
            raise ApiError("audience_empty", "所选范围内没有可以接收通知的家长或学生")
        notice.save()
        if urgent:
            if size is None:
                size = fanout.audience_size(classes=classes, audience=audience)
            audit_record(
                action="notice.urgent",
                actor=author,
                obj=notice,
                ip=ip,
                detail={"title": title, "target": target.label, "audience": audience, "recipients": size},
            )
        if scheduled_at is not None:
            if scheduled_at - now <= _eta_horizon():
                notice_id = notice.pk
                transaction.on_commit(
                    lambda: tasks.notice_publish_scheduled.apply_async((notice_id,), eta=scheduled_at)
                )
        elif audience_ids is not None:
            fanout.notice_publish_now(notice=notice, classes=classes, audience=audience_ids)
        else:
            notice_id = notice.pk
            transaction.on_commit(lambda: tasks.notice_fanout.delay(notice_id))
    return notice


def _managed_for_update(*, user: Any, notice_id: object) -> Notice:
    try:
        pk = int(str(notice_id))
    except (TypeError, ValueError):
        raise not_found("通知不存在") from None
    notice = notices_managed_by(user=user).select_for_update(of=("self",)).filter(pk=pk).first()
    if notice is None:
        raise not_found("通知不存在")
    return notice


def notice_cancel(*, user: Any, notice_id: object, ip: str | None = None) -> Notice:
    """Cancel a scheduled notice before it goes out (its author or an admin above it)."""
    with transaction.atomic():
        notice = _managed_for_update(user=user, notice_id=notice_id)
        if notice.status != Notice.Status.SCHEDULED:
            raise ApiError("notice_not_scheduled", "只能取消尚未发送的定时通知", status_code=409)
        notice.status = Notice.Status.CANCELLED
        notice.cancelled_at = timezone.now()
        notice.save(update_fields=["status", "cancelled_at"])
        audit_record(action="notice.cancel", actor=user, obj=notice, ip=ip, detail={"title": notice.title})
    return notice


def notice_recall(*, user: Any, notice_id: object, ip: str | None = None) -> Notice:
    """Recall a published notice: recipients see it as recalled (no body, no
    attachments), get notice.recalled, and its escalation stops. Audited."""
    with transaction.atomic():
        notice = _managed_for_update(user=user, notice_id=notice_id)
        if notice.status == Notice.Status.RECALLED:
            return notice
        if notice.status not in (Notice.Status.PUBLISHED, Notice.Status.PUBLISHING):
            raise ApiError("notice_not_published", "通知尚未发送，请使用取消", status_code=409)
        now = timezone.now()
        notice.status = Notice.Status.RECALLED
        notice.recalled_at = now
        notice.recalled_by = user
        notice.fanout_heartbeat = now
        notice.save(update_fields=["status", "recalled_at", "recalled_by", "fanout_heartbeat"])
        audit_record(
            action="notice.recall",
            actor=user,
            obj=notice,
            ip=ip,
            detail={"title": notice.title, "recipients": notice.recipients_count},
        )
        if notice.recipients_count <= fanout.sync_fanout_limit():
            fanout.notice_recall_run(notice_id=notice.pk)
        else:
            notice_pk = notice.pk
            transaction.on_commit(lambda: tasks.notice_recall_fanout.delay(notice_pk))
    notice.refresh_from_db()
    return notice


def _my_receipt_for_update(*, user_id: int, notice_id: object) -> NoticeReceipt:
    try:
        pk = int(str(notice_id))
    except (TypeError, ValueError):
        raise not_found("通知不存在") from None
    receipt = (
        NoticeReceipt.objects.select_for_update(of=("self",))
        .select_related("notice")
        .filter(notice_id=pk, recipient_id=user_id)
        .first()
    )
    if receipt is None:
        raise not_found("通知不存在")
    if receipt.notice.status == Notice.Status.RECALLED:
        raise ApiError("notice_recalled", "该通知已撤回", status_code=409)
    return receipt


def _tell_author(notice: Notice) -> None:
    if notice.author_id is None:
        return
    recipients, read, confirmed = (
        Notice.objects.filter(pk=notice.pk)
        .values_list("recipients_count", "read_count", "confirmed_count")
        .get()
    )
    send_event_on_commit(
        [notice.author_id],
        NOTICE_RECEIPT_UPDATED,
        {"notice_id": notice.pk, "recipients": recipients, "read": read, "confirmed": confirmed},
    )


def _mark(*, user_id: int, notice_id: object, confirm: bool) -> NoticeReceipt:
    with transaction.atomic():
        receipt = _my_receipt_for_update(user_id=user_id, notice_id=notice_id)
        notice = receipt.notice
        if confirm and not notice.require_confirmation:
            raise ApiError("confirmation_not_required", "该通知无需确认，已读即可")
        now = timezone.now()
        counters: dict[str, Any] = {}
        fields: list[str] = []
        if receipt.read_at is None:
            receipt.read_at = now
            fields.append("read_at")
            counters["read_count"] = F("read_count") + 1
        if confirm and receipt.confirmed_at is None:
            receipt.confirmed_at = now
            fields.append("confirmed_at")
            counters["confirmed_count"] = F("confirmed_count") + 1
        if not fields:
            return receipt  # idempotent: nothing changes, nothing is announced
        receipt.save(update_fields=fields)
        Notice.objects.filter(pk=notice.pk).update(**counters)
        # Reading stops the escalation unless the notice asks for a confirmation.
        if confirm or not notice.require_confirmation:
            delivery_acknowledge(source_type=fanout.SOURCE_TYPE, source_id=notice.pk, user_ids=[user_id])
        _tell_author(notice)
    return receipt


def notice_mark_read(*, user: Any, notice_id: object) -> NoticeReceipt:
    """The recipient opened the notice. Idempotent; 404 for a notice not addressed to
    them, 409 notice_recalled for a recalled one."""
    return _mark(user_id=int(user.pk), notice_id=notice_id, confirm=False)


def notice_confirm(*, user: Any, notice_id: object) -> NoticeReceipt:
    """The recipient confirms (回执); implies read. Idempotent. 400
    confirmation_not_required when the notice asks for none."""
    return _mark(user_id=int(user.pk), notice_id=notice_id, confirm=True)


def notice_remind(*, user: Any, notice_id: object, channel: str) -> int:
    """The author reminds everyone who has not read (or, when a confirmation is
    required, not confirmed) yet. At most once per NOTICES_REMINDER_INTERVAL_SECONDS
    per notice (429 reminder_too_soon). Returns how many people were reminded."""
    try:
        pk = int(str(notice_id))
    except (TypeError, ValueError):
        raise not_found("通知不存在") from None
    if channel not in ("auto", "push", "sms"):
        raise invalid("channel", "channel 只能是 auto、push 或 sms")
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(pk=pk, author=user).first()
        if notice is None:
            raise not_found("通知不存在")
        if notice.status == Notice.Status.RECALLED:
            raise ApiError("notice_recalled", "该通知已撤回", status_code=409)
        if notice.status not in (Notice.Status.PUBLISHED, Notice.Status.PUBLISHING):
            raise ApiError("notice_not_published", "通知尚未发送", status_code=409)
        now = timezone.now()
        if notice.last_reminded_at and now - notice.last_reminded_at < reminder_interval():
            wait = reminder_interval() - (now - notice.last_reminded_at)
            minutes = max(1, int(wait.total_seconds() + 59) // 60)
            raise ApiError("reminder_too_soon", f"提醒过于频繁，请 {minutes} 分钟后再试", status_code=429)
        pending = Q(confirmed_at__isnull=True) if notice.require_confirmation else Q(read_at__isnull=True)
        user_ids = list(
            NoticeReceipt.objects.filter(pending, notice_id=pk)
            .order_by("id")
            .values_list("recipient_id", flat=True)
        )
        if not user_ids:
            return 0
        reminded = 0
        chunk = fanout.fanout_chunk_size()
        for start in range(0, len(user_ids), chunk):
            reminded += delivery_remind(
                source_type=fanout.SOURCE_TYPE,
                source_id=pk,
                event_type=NOTICE_CREATED,
                user_ids=user_ids[start : start + chunk],
                channel=channel,
            )
        notice.last_reminded_at = now
        notice.save(update_fields=["last_reminded_at"])
    return reminded


def normalize_reply(content: str) -> str:
    """Full-width digits and spaces become ASCII ("１" → "1"); surrounding blanks go."""
    return unicodedata.normalize("NFKC", content).strip()


def notice_confirm_by_reply(*, notice_id: int, user_id: int, content: str) -> bool:
    """An SMS reply to a notice text. "1" or "确认" confirms it (or marks it read when no
    confirmation is asked for) and returns True; anything else returns False and is
    left to the next handler. A reply for a recalled notice is swallowed."""
    if normalize_reply(content) not in CONFIRM_REPLIES:
        return False
    receipt = (
        NoticeReceipt.objects.select_related("notice")
        .filter(notice_id=notice_id, recipient_id=user_id)
        .first()
    )
    if receipt is None:
        return False
    if receipt.notice.status == Notice.Status.RECALLED:
        return True
    _mark(user_id=user_id, notice_id=notice_id, confirm=receipt.notice.require_confirmation)
    return True
