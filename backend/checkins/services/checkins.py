"""Submitting a check-in (打卡, 补卡).

One check-in per student per campaign day. A second check-in for a day that already
has one is REFUSED (409 already_checked_in), never merged into the first: the first may
already carry a teacher's comment or like, and feedback must keep pointing at what the
teacher saw. A retry with the same `client_id` returns the first result instead."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from backend.checkins.models import Checkin, CheckinCampaign, ContentType
from backend.checkins.schedule import (
    DATE_IN_FUTURE,
    MAKEUP_WINDOW_PASSED,
    NOT_A_CAMPAIGN_DAY,
    OUTSIDE_CAMPAIGN,
    check_day,
    local_date,
)
from backend.checkins.selectors import SubmissionContext, schedule_of, submission_context
from backend.checkins.tasks import checkins_announce_soon
from backend.conventions.errors import ApiError
from backend.files.services import files_claim
from backend.privacy.services import privacy_require_consent
from backend.schools.selectors import guardian_display_name

# Attachment kinds (backend.files) → the content type they satisfy.
KIND_CONTENT = {
    "image": ContentType.PHOTO.value,
    "voice": ContentType.VOICE.value,
    "video": ContentType.VIDEO.value,
}
CONTENT_LABELS = dict(ContentType.choices)


def _day_error(code: str, *, makeup_days: int) -> ApiError:
    messages = {
        DATE_IN_FUTURE: "不能为将来的日期打卡",
        OUTSIDE_CAMPAIGN: "该日期不在打卡活动期间",
        NOT_A_CAMPAIGN_DAY: "该日期不是本活动的打卡日",
        MAKEUP_WINDOW_PASSED: (
            f"已超过补卡期限（只能补 {makeup_days} 天内的卡）" if makeup_days else "本活动不支持补卡"
        ),
    }
    return ApiError(code, messages[code], fields={"date": [messages[code]]})


def _same_submission(
    existing: Checkin, *, student_id: int, day: date | None, text: str, attachment_ids: list[int]
) -> bool:
    # A retry without "date" may arrive after midnight: it still means the first day.
    return (
        existing.student_id == student_id
        and (day is None or existing.date == day)
        and existing.text == text
        and list(existing.attachment_ids) == attachment_ids
    )


def _replay(existing: Checkin, **submission: Any) -> Checkin:
    if not _same_submission(existing, **submission):
        raise ApiError("client_id_reused", "该 client_id 已用于内容不同的打卡", status_code=409)
    return existing


def checkin_submit(
    *,
    user: Any,
    campaign: CheckinCampaign,
    student_id: int,
    text: str,
    client_id: str,
    day: date | None = None,
    attachment_ids: list[int] | None = None,
    now: datetime | None = None,
    context: SubmissionContext | None = None,
) -> tuple[Checkin, bool]:
    """A student checks in for themself, or a guardian for their child. Returns
    (check-in, created); a retry with the same client_id returns (first, False).
    `context`: submission_context() for these (user, campaign, student, client_id)
    when the caller has it already.

    Raises ApiError: 404 student_not_found (not in the campaign's classes, or not the
    caller nor their child); 409 client_id_reused, campaign_closed, already_checked_in;
    400 date_in_future, outside_campaign, not_a_campaign_day, makeup_window_passed,
    content_required, unknown_attachments, attachment_type_not_allowed,
    too_many_attachments. Nothing is written on error.
    Raises ApiError 403 guardian_consent_required (privacy) first, before any of these.
    Constant queries whatever the class or campaign size (the context, consent included,
    and the insert); no shared row is updated."""
    now = now or timezone.now()
    text = text.strip()
    attachment_ids = list(dict.fromkeys(attachment_ids or []))
    submission = {"student_id": student_id, "day": day, "text": text, "attachment_ids": attachment_ids}

    if context is None:
        found = submission_context(
            user=user, campaign_id=campaign.pk, student_id=student_id, client_id=client_id
        )
        if found is None:
            privacy_require_consent(student_id=student_id)
            raise ApiError("student_not_found", "学生不存在，或不是您本人/您的孩子", status_code=404)
        context = found[1]
    if not context.consented:
        # The read found no live consent: privacy decides and refuses in its own words
        # (its own query, on this path only; a no-op when enforcement is off).
        privacy_require_consent(student_id=student_id)
    class_id = context.class_id
    if class_id is None or not context.allowed(user=user):
        raise ApiError("student_not_found", "学生不存在，或不是您本人/您的孩子", status_code=404)

    existing = Checkin.objects.filter(pk=context.replay_id).first() if context.replay_id is not None else None
    if existing is not None:
        return _replay(existing, **submission), False

    if campaign.status == CheckinCampaign.Status.CLOSED:
        raise ApiError("campaign_closed", "打卡活动已结束", status_code=409)
    today = local_date(now)
    day = day or today
    refused = check_day(schedule_of(campaign), day, today=today, makeup_days=campaign.makeup_days)
    if refused:
        raise _day_error(refused, makeup_days=campaign.makeup_days)

    files = (
        files_claim(ids=attachment_ids, owner=user, allowed_kinds=set(KIND_CONTENT)) if attachment_ids else []
    )
    contains = {KIND_CONTENT[f.kind] for f in files}
    if text:
        contains.add(ContentType.TEXT.value)
    missing = [c for c in campaign.content_types if c not in contains]
    if missing:
        labels = "、".join(CONTENT_LABELS[c] for c in missing)
        raise ApiError(
            "content_required", f"本活动的打卡需要包含：{labels}", fields={"content_types": missing}
        )

    # How the class knows the submitter: the student's name, or "王小明妈妈".
    link = context.link
    submitted_by_name = (
        guardian_display_name(student_name=link[1], relation=link[0]) if link else str(user.name)
    )
    checkin = Checkin(
        campaign=campaign,
        student_id=student_id,
        school_class_id=class_id,
        date=day,
        is_makeup=day < today,
        submitted_by=user,
        submitted_by_name=submitted_by_name[:64],
        text=text,
        attachment_ids=attachment_ids,
        content_types=[c.value for c in ContentType if c.value in contains],
        client_id=client_id,
        created_at=now,
    )
    try:
        if connection.in_atomic_block:
            # Inside a transaction (Idempotency-Key): a savepoint, so that a refused
            # INSERT leaves the transaction usable.
            with transaction.atomic():
                checkin.save(force_insert=True)
        else:
            # The one write of a check-in: in autocommit it commits by itself, without
            # BEGIN and COMMIT round trips, and on_commit runs once it has.
            checkin.save(force_insert=True)
    except IntegrityError:
        # A concurrent retry with the same client_id won the race: replay it; otherwise
        # the day was taken by another submission (the student and a parent at once).
        first = Checkin.objects.filter(campaign=campaign, submitted_by=user, client_id=client_id).first()
        if first is not None:
            return _replay(first, **submission), False
        raise ApiError("already_checked_in", f"{day:%m月%d日}已经打过卡了", status_code=409) from None
    # The teachers hear of it from the class's next announcement batch (queued unless
    # one is already waiting); the row stays "not yet announced" until then. robust: with
    # Redis down the check-in is still made (and answered 201); the sweeper announces it.
    transaction.on_commit(lambda: checkins_announce_soon(class_id=class_id), robust=True)
    return checkin, True
