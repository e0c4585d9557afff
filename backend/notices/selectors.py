"""Reads of notices, scoped to the caller.

- recipients see the notices they hold a receipt for (their children's classes);
- the author, and admins of the notice's org or above, manage it: stats, receipts;
- everyone else gets 404."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from backend.conventions.errors import not_found
from backend.delivery.selectors import delivery_states
from backend.schools.selectors import admin_org_paths
from backend.sms.selectors import sms_status_by_user

from .events import NOTICE_CREATED
from .models import Notice, NoticeReceipt

SOURCE_TYPE = "notice"
RECEIPT_STATES = ("unread", "unconfirmed", "read", "confirmed")


def _admin_q(paths: Sequence[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(org__path__startswith=path)
    return q


def notices_managed_by(*, user: Any) -> QuerySet[Notice]:
    """Notices the user wrote, and every notice addressed within an org they administer."""
    return Notice.objects.filter(Q(author=user) | _admin_q(admin_org_paths(user=user)))


def notices_inbox(*, user: Any) -> QuerySet[NoticeReceipt]:
    """The user's receipts (one per notice addressed to them or their children), newest
    published first; each with its notice loaded. One query per page."""
    return NoticeReceipt.objects.filter(recipient=user).select_related("notice")


def notices_sent(*, user: Any) -> QuerySet[Notice]:
    """Notices the user wrote, scheduled and cancelled ones included."""
    return Notice.objects.filter(author=user)


def notice_unread_counts(*, user: Any) -> dict[str, int]:
    """{"unread", "unconfirmed"} over the user's live (not recalled) notices. One query."""
    counts = (
        NoticeReceipt.objects.filter(recipient=user)
        .exclude(notice__status=Notice.Status.RECALLED)
        .aggregate(
            unread=Count("pk", filter=Q(read_at__isnull=True)),
            unconfirmed=Count("pk", filter=Q(confirmed_at__isnull=True, notice__require_confirmation=True)),
        )
    )
    return {"unread": int(counts["unread"] or 0), "unconfirmed": int(counts["unconfirmed"] or 0)}


@dataclass(frozen=True)
class NoticeView:
    notice: Notice
    receipt: NoticeReceipt | None  # the caller's own, when the notice was addressed to them
    manages: bool  # author or admin above: sees stats, receipts, recalled content


def _pk(notice_id: object) -> int:
    try:
        return int(str(notice_id))
    except (TypeError, ValueError):
        raise not_found("通知不存在") from None


def notice_view(*, user: Any, notice_id: object) -> NoticeView:
    """One notice as the caller may see it, or 404. Three queries."""
    pk = _pk(notice_id)
    notice = Notice.objects.select_related("org").filter(pk=pk).first()
    if notice is None:
        raise not_found("通知不存在")
    receipt = NoticeReceipt.objects.filter(notice_id=pk, recipient=user).first()
    manages = notice.author_id == user.pk or any(
        notice.org.path.startswith(path) for path in admin_org_paths(user=user)
    )
    if not manages and receipt is None:
        raise not_found("通知不存在")
    return NoticeView(notice, receipt, manages)


def notice_managed(*, user: Any, notice_id: object, author_only: bool = False) -> Notice:
    """A notice the caller manages (or wrote, with author_only), or 404."""
    pk = _pk(notice_id)
    scoped = notices_sent(user=user) if author_only else notices_managed_by(user=user)
    notice = scoped.filter(pk=pk).first()
    if notice is None:
        raise not_found("通知不存在")
    return notice


def notice_receipts(*, notice: Notice, state: str | None = None) -> QuerySet[NoticeReceipt]:
    """Receipts of a notice, optionally by state: unread, unconfirmed, read, confirmed."""
    qs = NoticeReceipt.objects.filter(notice=notice)
    if state == "unread":
        qs = qs.filter(read_at__isnull=True)
    elif state == "read":
        qs = qs.filter(read_at__isnull=False)
    elif state == "unconfirmed":
        qs = qs.filter(confirmed_at__isnull=True)
    elif state == "confirmed":
        qs = qs.filter(confirmed_at__isnull=False)
    return qs


@dataclass(frozen=True)
class ReceiptDelivery:
    channels: list[str]
    sms_status: str | None


def receipt_deliveries(*, notice: Notice, receipts: Sequence[NoticeReceipt]) -> dict[int, ReceiptDelivery]:
    """Per recipient of a page of receipts: the channels the notice reached them on and
    the status of its latest SMS. Two queries, whatever the page size."""
    user_ids = [r.recipient_id for r in receipts]
    if not user_ids:
        return {}
    states = delivery_states(
        source_type=SOURCE_TYPE, source_id=notice.pk, event_type=NOTICE_CREATED, user_ids=user_ids
    )
    sms = sms_status_by_user(source_prefix=f"{SOURCE_TYPE}:{notice.pk}:", user_ids=user_ids)
    result = {}
    for uid in user_ids:
        state = states.get(uid)
        result[uid] = ReceiptDelivery(list(state.channels) if state else [], sms.get(uid))
    return result


@dataclass(frozen=True)
class NoticeOrigin:
    """Who sent a notice and to where: enough for another app (messaging) to route a
    parent's SMS reply to the author's chat without reading Notice rows itself."""

    notice_id: int
    author_id: int | None
    school_id: int | None
    class_ids: list[int]


def notice_origin(*, notice_id: int) -> NoticeOrigin | None:
    row = Notice.objects.filter(pk=notice_id).values("pk", "author_id", "school_id", "class_ids").first()
    if row is None:
        return None
    return NoticeOrigin(
        notice_id=row["pk"],
        author_id=row["author_id"],
        school_id=row["school_id"],
        class_ids=[int(c) for c in row["class_ids"] or []],
    )
