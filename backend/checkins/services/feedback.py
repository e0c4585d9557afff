"""Teacher feedback on a check-in: comments (点评) and likes (点赞); removal by admins."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.checkins.models import Checkin, CheckinComment, CheckinLike
from backend.checkins.notifications import notify_comment, notify_like
from backend.conventions.errors import ApiError
from backend.schools.selectors import taught_classes

MAX_COMMENT_LENGTH = 1000


def _require_teacher(*, user: Any, checkin: Checkin) -> None:
    # Feedback is the teacher's: guardians and students see the check-in but do not grade it.
    if not taught_classes(user=user).filter(pk=checkin.school_class_id).exists():
        raise ApiError("teachers_only", "只有该班的任课教师可以点评或点赞", status_code=403)


@transaction.atomic
def checkin_comment_add(*, author: Any, checkin: Checkin, text: str) -> CheckinComment:
    """A teacher of the student's class comments; the student and guardians are told
    (`checkin.commented`, push outside quiet hours). Raises ApiError teachers_only (403),
    comment_required, comment_too_long."""
    _require_teacher(user=author, checkin=checkin)
    text = text.strip()
    if not text:
        raise ApiError("comment_required", "点评内容不能为空", fields={"text": ["不能为空"]})
    if len(text) > MAX_COMMENT_LENGTH:
        raise ApiError("comment_too_long", f"点评最多 {MAX_COMMENT_LENGTH} 字", fields={"text": ["过长"]})
    comment = CheckinComment.objects.create(
        checkin=checkin,
        author=author,
        author_name=str(author.name)[:64],
        text=text,
        created_at=timezone.now(),
    )
    notify_comment(checkin=checkin, comment=comment, author=author)
    return comment


@transaction.atomic
def checkin_like(*, user: Any, checkin: Checkin) -> tuple[CheckinLike, bool]:
    """A teacher likes a check-in. Idempotent: liking again changes nothing; the family
    is told on the first like only (an unlike and like again is silent). Returns
    (like, changed)."""
    _require_teacher(user=user, checkin=checkin)
    like, created = CheckinLike.objects.get_or_create(
        checkin=checkin, user=user, defaults={"created_at": timezone.now()}
    )
    if created:
        notify_like(checkin=checkin, like=like, author=user)
        return like, True
    if not like.active:
        like.active = True
        like.save(update_fields=["active"])
        return like, True
    return like, False


@transaction.atomic
def checkin_unlike(*, user: Any, checkin: Checkin) -> bool:
    """Withdraw the caller's like (no-op without one). Returns whether anything changed."""
    _require_teacher(user=user, checkin=checkin)
    return bool(CheckinLike.objects.filter(checkin=checkin, user=user, active=True).update(active=False))


@transaction.atomic
def checkin_remove(*, actor: Any, checkin: Checkin, reason: str = "") -> None:
    """Content review (seeds 003/004: the operator answers for content): an admin removes
    a check-in and its feedback. Audited with who, what and why."""
    audit_record(
        action="checkins.checkin_remove",
        actor=actor,
        obj=checkin,
        detail={
            "campaign_id": checkin.campaign_id,
            "student_id": checkin.student_id,
            "date": checkin.date.isoformat(),
            "reason": reason[:200],
        },
    )
    checkin.delete()
