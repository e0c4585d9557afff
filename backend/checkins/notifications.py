"""Telling people about check-ins, through backend.delivery.notify() only.

Choices (BRIEF: quiet hours, MOE workload rules):
- `checkin.created` goes to the teachers of the student's class as an in-app event
  only (push=None): a class of 50 checking in every evening must not ring a teacher's
  phone 50 times. The app shows a badge; the stats endpoint shows who is missing.
- `checkin.commented` (a teacher's comment or like) reaches the student and their
  guardians with a non-urgent push; delivery holds it during quiet hours.
- Reminders are push only, never SMS: they are not urgent, and texting grandparents
  daily about a habit campaign is exactly the burden the 2021 rules forbid.
Every notify() has its own source (the check-in, the comment, the like, the reminder
row), so re-running any of these sends nothing twice."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.delivery.services import Event, PushContent, notify
from backend.realtime.publishing import publishing_in_background

from .events import CHECKIN_COMMENTED, CHECKIN_CREATED, CHECKIN_REMINDER
from .models import Checkin, CheckinCampaign, CheckinComment, CheckinLike, CheckinReminder
from .selectors import guardians_of, teachers_of_class


def _topic(campaign_id: int) -> str:
    # Lets a family mute one campaign's pushes without muting everything.
    return f"checkin_campaign:{campaign_id}"


# Check-ins announced per transaction: bounds how long a batch holds its rows' locks.
ANNOUNCE_BATCH = 200


def _created_data(checkin: Checkin) -> dict[str, Any]:
    return {
        "checkin_id": checkin.pk,
        "campaign_id": checkin.campaign_id,
        "campaign_title": checkin.campaign.title,
        "class_id": checkin.school_class_id,
        "student": {"id": checkin.student_id, "name": checkin.student.name},
        "date": checkin.date.isoformat(),
        "is_makeup": checkin.is_makeup,
        "submitted_by": {"id": checkin.submitted_by_id, "display_name": checkin.submitted_by_name},
    }


def checkins_announce_class(*, class_id: int) -> int:
    """`checkin.created` to the teachers of the class, one per check-in of the class not
    yet announced, in batches of ANNOUNCE_BATCH: each batch is one transaction that
    claims its rows (FOR UPDATE SKIP LOCKED: a concurrent run takes other rows), tells
    the teachers and marks the rows announced. Returns how many check-ins it announced.

    Safe to run twice or concurrently: a row is announced and marked in the same
    transaction, and notify() sends nothing twice for the same check-in. Queries: 3 per
    batch and notify()'s own per check-in, whatever the class size."""
    # A batch's events reach the sockets in one publish after its commit, not one each.
    with publishing_in_background():
        return _announce_batches(class_id)


def _announce_batches(class_id: int) -> int:
    announced = 0
    while True:
        with transaction.atomic():
            batch = list(
                Checkin.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("campaign", "student")
                .filter(school_class_id=class_id, announced_at__isnull=True)
                .order_by("id")[:ANNOUNCE_BATCH]
            )
            if not batch:
                return announced
            teachers = teachers_of_class(class_id=class_id)
            for checkin in batch:
                if teachers:
                    notify(
                        teachers,
                        Event(
                            type=CHECKIN_CREATED,
                            data=_created_data(checkin),
                            source_type="checkin",
                            source_id=checkin.pk,
                        ),
                        school_id=checkin.campaign.school_id,
                        push=None,
                    )
            Checkin.objects.filter(pk__in=[c.pk for c in batch]).update(announced_at=timezone.now())
        announced += len(batch)
        if len(batch) < ANNOUNCE_BATCH:
            return announced


def _family(checkin: Checkin) -> list[int]:
    return [checkin.student_id, *guardians_of(student_ids=[checkin.student_id]).get(checkin.student_id, [])]


def _feedback_data(checkin: Checkin, *, kind: str, comment_id: int | None, author: Any) -> dict[str, Any]:
    return {
        "checkin_id": checkin.pk,
        "campaign_id": checkin.campaign_id,
        "student_id": checkin.student_id,
        "date": checkin.date.isoformat(),
        "kind": kind,
        "comment_id": comment_id,
        "author": {"id": author.pk, "display_name": str(author.name)},
    }


def notify_comment(*, checkin: Checkin, comment: CheckinComment, author: Any) -> None:
    """Inside the comment's transaction: the family hears of it once it commits."""
    campaign = checkin.campaign
    notify(
        _family(checkin),
        Event(
            type=CHECKIN_COMMENTED,
            data=_feedback_data(checkin, kind="comment", comment_id=comment.pk, author=author),
            source_type="checkin_comment",
            source_id=comment.pk,
        ),
        school_id=campaign.school_id,
        push=PushContent(
            title=f"{author.name}点评了打卡",
            body=f"《{campaign.title}》：{comment.text[:60]}",
            data={"checkin_id": str(checkin.pk), "campaign_id": str(campaign.pk)},
        ),
        topic=_topic(campaign.pk),
    )


def notify_like(*, checkin: Checkin, like: CheckinLike, author: Any) -> None:
    campaign = checkin.campaign
    notify(
        _family(checkin),
        Event(
            type=CHECKIN_COMMENTED,
            data=_feedback_data(checkin, kind="like", comment_id=None, author=author),
            source_type="checkin_like",
            source_id=like.pk,
        ),
        school_id=campaign.school_id,
        push=PushContent(
            title=f"{author.name}给打卡点了赞",
            body=f"《{campaign.title}》{checkin.date:%m月%d日}的打卡",
            data={"checkin_id": str(checkin.pk), "campaign_id": str(campaign.pk)},
        ),
        topic=_topic(campaign.pk),
    )


def notify_reminder(*, campaign: CheckinCampaign, reminder: CheckinReminder, recipients: list[int]) -> None:
    """Push only (sms=None): see the module docstring."""
    notify(
        recipients,
        Event(
            type=CHECKIN_REMINDER,
            data={
                "campaign_id": campaign.pk,
                "campaign_title": campaign.title,
                "date": reminder.date.isoformat(),
            },
            source_type="checkin_reminder",
            source_id=reminder.pk,
        ),
        school_id=campaign.school_id,
        push=PushContent(
            title="打卡提醒",
            body=f"《{campaign.title}》今天还没有打卡哦",
            data={"campaign_id": str(campaign.pk), "date": reminder.date.isoformat()},
        ),
        sms=None,
        topic=_topic(campaign.pk),
    )
