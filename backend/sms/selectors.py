"""Reads of the SMS app: what a caller may see, job counts, delivery status per user,
and the ledger check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from backend.schools.selectors import admin_scope_q, is_school_admin_of

from .catalog import PLATFORM_TEMPLATES, PlatformTemplate
from .models import (
    Billing,
    LedgerEntry,
    MessageState,
    SmsAccount,
    SmsJob,
    SmsMessage,
    SmsReply,
    SmsUnsubscribe,
)

PENDING_STATES = frozenset(
    {MessageState.QUEUED, MessageState.SUBMITTING, MessageState.DEFERRED, MessageState.AMBIGUOUS}
)


@dataclass(frozen=True)
class JobCounts:
    total: int = 0
    queued: int = 0
    submitted: int = 0
    delivered: int = 0
    failed: int = 0
    unknown: int = 0
    segments_reserved: int = 0
    segments_charged: int = 0
    segments_refunded: int = 0

    def status(self, *, job: SmsJob, now: datetime) -> str:
        if self.queued == 0 and self.submitted == 0:
            return SmsJob.Status.COMPLETED
        if job.not_before is not None and job.not_before > now and self.queued == self.total:
            return SmsJob.Status.SCHEDULED
        return SmsJob.Status.SENDING


def job_counts(*, job_ids: Iterable[int]) -> dict[int, JobCounts]:
    """Counts per state and segments per billing state of each job, in one query."""
    ids = list(job_ids)
    tallies: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    rows = (
        SmsMessage.objects.filter(job_id__in=ids)
        .values("job_id", "state", "billing")
        .annotate(n=Count("id"), segments=Sum("segments"))
        .order_by()
    )
    for row in rows:
        tally = tallies[row["job_id"]]
        state = row["state"]
        bucket = "queued" if state in PENDING_STATES else state
        tally[bucket] = tally.get(bucket, 0) + row["n"]
        tally["total"] = tally.get("total", 0) + row["n"]
        key = f"segments_{row['billing']}"
        tally[key] = tally.get(key, 0) + int(row["segments"] or 0)
    return {pk: JobCounts(**tally) for pk, tally in tallies.items()}


def sms_template_limits(*, name: str) -> Mapping[str, int]:
    """Slot → maximum length of platform template `name` (for callers that shorten
    values, e.g. a chat reply's content). KeyError for an unknown template."""
    return dict(PLATFORM_TEMPLATES[name].max_lengths)


def job_templates() -> list[PlatformTemplate]:
    """Templates a school may use for mass texting."""
    return [t for t in PLATFORM_TEMPLATES.values() if t.for_jobs]


# --- Scope -----------------------------------------------------------------------------


def _admin_accounts_q(user: Any) -> Q:
    return admin_scope_q(user=user, field="org__path")


def accounts_visible_to(*, user: Any) -> QuerySet[SmsAccount]:
    """Admins: every account in their subtree (teachers' allowances included); anyone:
    their own allowances."""
    return (
        SmsAccount.objects.filter(_admin_accounts_q(user) | Q(owner=user))
        .select_related("org", "owner")
        .distinct()
    )


def accounts_usable_by(*, user: Any) -> QuerySet[SmsAccount]:
    """Accounts the user may send a mass text from: the org accounts of an admin's
    subtree, and the user's own allowances."""
    return SmsAccount.objects.filter(
        (_admin_accounts_q(user) & Q(owner__isnull=True)) | Q(owner=user)
    ).select_related("org", "owner")


def user_administers_account(*, user: Any, account: SmsAccount) -> bool:
    return is_school_admin_of(user=user, school=account.org)


def jobs_visible_to(*, user: Any) -> QuerySet[SmsJob]:
    """The jobs a user sent, and every job of an admin's subtree."""
    return SmsJob.objects.filter(
        Q(created_by=user) | admin_scope_q(user=user, field="account__org__path")
    ).select_related("account")


def messages_visible_to(*, user: Any) -> QuerySet[SmsMessage]:
    """Texts a user sent (jobs, notices, replies), and every text of an admin's subtree."""
    return SmsMessage.objects.filter(Q(sender=user) | admin_scope_q(user=user, field="account__org__path"))


def replies_visible_to(*, user: Any) -> QuerySet[SmsReply]:
    """Replies to accounts of an admin's subtree (nobody else sees raw replies)."""
    return SmsReply.objects.filter(admin_scope_q(user=user, field="account__org__path"))


def ledger_of_account(*, account: SmsAccount) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(account=account).select_related("actor", "counterparty")


# --- Delivery status for other apps -----------------------------------------------------


def sms_status_by_user(*, source_prefix: str, user_ids: Iterable[int]) -> dict[int, str]:
    """The state of the latest text per user among sources starting with `source_prefix`
    (e.g. "notice:12:"): queued, submitting, submitted, delivered, failed, deferred,
    ambiguous or unknown. Users never texted are absent. A query per 2,000 users."""
    wanted = sorted(set(user_ids))
    latest: dict[int, str] = {}
    for start in range(0, len(wanted), 2000):
        rows = (
            SmsMessage.objects.filter(
                source__startswith=source_prefix, user_id__in=wanted[start : start + 2000]
            )
            .order_by("user_id", "-id")
            .values_list("user_id", "state")
        )
        for user_id, state in rows:
            latest.setdefault(user_id, state)
    return latest


# --- The ledger check -------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerMismatch:
    account_id: int
    balance: int
    reserved: int
    ledger_balance: int
    ledger_reserved: int


def ledger_mismatches(*, account_ids: Iterable[int] | None = None) -> list[LedgerMismatch]:
    """Accounts whose cached balance or reservations differ from their ledger sums
    (must always be empty; two queries)."""
    accounts = SmsAccount.objects.all()
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    sums = {
        row["account_id"]: (int(row["s"] or 0), int(row["h"] or 0))
        for row in LedgerEntry.objects.filter(account__in=accounts)
        .values("account_id")
        .annotate(s=Sum("segments"), h=Sum("held"))
        .order_by()
    }
    mismatches = []
    for pk, balance, reserved in accounts.values_list("pk", "balance", "reserved"):
        ledger_balance, ledger_reserved = sums.get(pk, (0, 0))
        if (balance, reserved) != (ledger_balance, ledger_reserved):
            mismatches.append(LedgerMismatch(pk, balance, reserved, ledger_balance, ledger_reserved))
    return mismatches


def reserved_segments_of_messages(*, account_id: int) -> int:
    """Segments of the account's texts still held (equals its `reserved` at rest)."""
    total = SmsMessage.objects.filter(account_id=account_id, billing=Billing.RESERVED).aggregate(
        s=Sum("segments")
    )["s"]
    return int(total or 0)


# --- Reach and usage for reports (backend.stats) ----------------------------------------


def sms_reach_by_user(*, user_ids: Iterable[int]) -> dict[int, str]:
    """Per user whose texts are in trouble: "unsubscribed" (their number replied T/退订),
    "stale_number" (the last two texts failed), "sms_failing" (the last one failed).
    Users whose texts go through, or who were never texted, are absent."""
    wanted = sorted(set(user_ids))
    out: dict[int, str] = {}
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        recent: dict[int, list[str]] = {}
        phones: dict[int, str] = {}
        for user_id, state, phone in (
            SmsMessage.objects.filter(user_id__in=chunk)
            .exclude(state__in=PENDING_STATES)
            .order_by("user_id", "-id")
            .values_list("user_id", "state", "phone")
        ):
            recent.setdefault(user_id, []).append(state)
            phones.setdefault(user_id, phone)
        unsubscribed = set(
            SmsUnsubscribe.objects.filter(phone__in=phones.values()).values_list("phone", flat=True)
        )
        for user_id, states in recent.items():
            if phones[user_id] in unsubscribed:
                out[user_id] = "unsubscribed"
            elif states[:2] == [MessageState.FAILED, MessageState.FAILED]:
                out[user_id] = "stale_number"
            elif states[0] == MessageState.FAILED:
                out[user_id] = "sms_failing"
    return out


def sms_usage_by_org(*, org_ids: Iterable[int], start: datetime, end: datetime) -> dict[int, tuple[int, int]]:
    """Per org: (segments charged in [start, end) on its accounts and its teachers'
    allowances, the org account's current balance). Two queries."""
    ids = list(org_ids)
    spent = dict(
        SmsMessage.objects.filter(
            account__org_id__in=ids, billing=Billing.CHARGED, queued_at__gte=start, queued_at__lt=end
        )
        .values("account__org_id")
        .annotate(n=Sum("segments"))
        .values_list("account__org_id", "n")
    )
    balances = dict(
        SmsAccount.objects.filter(org_id__in=ids, owner__isnull=True).values_list("org_id", "balance")
    )
    return {org_id: (int(spent.get(org_id) or 0), int(balances.get(org_id) or 0)) for org_id in ids}
