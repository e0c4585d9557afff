"""Reports, the review queue and the per-school word list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.messaging.models import Message, Report, SensitiveWord
from backend.messaging.moderation.normalize import normalize_word

from .messages import message_release, message_remove

RESOLUTIONS = ("delete", "keep")
MAX_SCHOOL_WORDS = 500


@transaction.atomic
def report_create(*, user: Any, message: Message, reason: str) -> tuple[Report, bool]:
    """A member reports a message into the review queue; reporting twice is a no-op."""
    reason = reason.strip()
    if not reason:
        raise ApiError("empty_reason", "请填写举报原因", fields={"reason": ["请填写举报原因"]})
    if message.deleted_at is not None:
        raise ApiError("message_deleted", "消息已被删除", status_code=409)
    report, created = Report.objects.get_or_create(
        message=message, reporter=user, defaults={"reason": reason[:200]}
    )
    if created:
        audit_record(
            action="messaging.message_report", actor=user, obj=report, detail={"message_id": message.pk}
        )
    return report, created


@transaction.atomic
def report_resolve(*, user: Any, report: Report, action: str) -> Report:
    """Delete the reported message or keep it (a held message is then released). Every
    open report of the message is resolved with it."""
    if action not in RESOLUTIONS:
        raise ApiError(
            "invalid_action", "处理方式只能是 delete 或 keep", fields={"action": ["无效的处理方式"]}
        )
    report = (
        Report.objects.select_for_update()
        .select_related("message", "message__conversation")
        .get(pk=report.pk)
    )
    if report.status != Report.Status.OPEN:
        raise ApiError("report_resolved", "该举报已处理", status_code=409)
    message = report.message
    if action == "delete":
        if message.deleted_at is None:
            message_remove(message=message, actor=user)
        status = Report.Status.DELETED
    else:
        if message.status == Message.Status.HELD and message.deleted_at is None:
            message_release(message=message)
        status = Report.Status.KEPT
    now = timezone.now()
    Report.objects.filter(message=message, status=Report.Status.OPEN).update(
        status=status, resolved_by=user, resolved_at=now
    )
    report.refresh_from_db()
    audit_record(
        action="messaging.report_resolve",
        actor=user,
        obj=report,
        detail={"message_id": message.pk, "action": action},
    )
    return report


@transaction.atomic
def school_words_set(*, user: Any, school_id: int, words: Iterable[Mapping[str, str]]) -> list[SensitiveWord]:
    """Replace the school's own word list (the platform defaults always apply too)."""
    rows: dict[str, str] = {}
    for entry in words:
        word = str(entry.get("word", "")).strip()
        policy = str(entry.get("policy", SensitiveWord.Policy.MASK))
        if not word or len(word) > 50 or not normalize_word(word):
            raise ApiError("invalid_word", "敏感词需为 1–50 个有效字符", fields={"words": [word or "（空）"]})
        if policy not in SensitiveWord.Policy.values:
            raise ApiError("invalid_policy", "处理方式只能是 block 或 mask", fields={"words": [word]})
        rows[word] = policy
    if len(rows) > MAX_SCHOOL_WORDS:
        raise ApiError("too_many_words", f"每校最多 {MAX_SCHOOL_WORDS} 个敏感词", fields={"words": ["过多"]})
    SensitiveWord.objects.filter(school_id=school_id).delete()
    created = SensitiveWord.objects.bulk_create(
        SensitiveWord(school_id=school_id, word=word, policy=policy) for word, policy in rows.items()
    )
    audit_record(
        action="messaging.words_set",
        actor=user,
        object_type="schools.org",
        object_id=school_id,
        detail={"count": len(created)},
    )
    return created


__all__ = ["report_create", "report_resolve", "school_words_set"]
