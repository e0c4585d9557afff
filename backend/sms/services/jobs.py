"""Mass texting (群发短信): check a draft, preview it, and create the job: one
reservation for all its segments and the message rows, written in chunks (a constant
number of queries per 2,000 recipients); the texts go out in provider-sized batches from
Celery tasks, after quiet hours unless urgent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.bulk import bulk_insert
from backend.conventions.errors import ApiError
from backend.conventions.scope import get_in_scope
from backend.realtime.services import send_event_on_commit
from backend.sms.audience import Audience, Exclusion, audience_classes, audience_people
from backend.sms.catalog import FREE_TEXT, PLATFORM_TEMPLATES
from backend.sms.events import JOB_PROGRESS, job_progress_data
from backend.sms.models import SmsAccount, SmsJob, SmsMessage
from backend.sms.providers import provider_supports_free_text, template
from backend.sms.selectors import JobCounts, accounts_usable_by, user_administers_account
from sms_gateway.segments import MAX_MESSAGE_LENGTH, MessageLengthError
from sms_gateway.templates import Template, TemplateParamsError

from .ledger import ledger_reserve
from .sending import (
    Rendered,
    account_chain_frozen,
    message_fields,
    render_for_account,
    unsubscribed_phones,
)
from .submission import SHARED_BATCH, queue_submission

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class JobDraft:
    account_id: int
    audience: Audience
    template: str | None = None
    text: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    urgent: bool = False


@dataclass
class JobPlan:
    account: SmsAccount
    template_name: str
    tpl: Template
    params: dict[str, str]
    rendered: Rendered
    recipients: list[tuple[int, str]]
    excluded: list[Exclusion]
    not_before: datetime | None

    @property
    def segments(self) -> int:
        return len(self.recipients) * self.rendered.segments

    @property
    def cost(self) -> Decimal:
        return segment_price() * self.segments

    def excluded_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for exclusion in self.excluded:
            counts[exclusion.reason] = counts.get(exclusion.reason, 0) + 1
        return counts


def segment_price() -> Decimal:
    """What one segment costs (yuan), for showing costs; quotas are in segments."""
    return Decimal(str(getattr(settings, "SMS_SEGMENT_PRICE", "0.045")))


def quiet_hours_end(*, org: Any, now: datetime) -> datetime | None:
    """When the org's quiet hours (免打扰, default 21:00–07:00 China time) end, if `now`
    falls inside them; None otherwise."""
    start, end = org.quiet_hours_start, org.quiet_hours_end
    if start == end:
        return None
    local = now.astimezone(SHANGHAI)
    moment = local.time()
    inside = (start <= moment or moment < end) if start > end else (start <= moment < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return ends if ends > local else ends + timedelta(days=1)


def _content(draft: JobDraft, account: SmsAccount) -> tuple[str, Template, dict[str, str], Rendered]:
    if (draft.template is None) == (draft.text is None):
        raise ApiError(
            "content_invalid",
            "请选择模板或填写短信内容（二选一）",
            fields={"template_id": ["与 text 二选一"]},
        )
    if draft.text is not None:
        if not provider_supports_free_text():
            raise ApiError("free_text_not_supported", "当前短信通道只能发送审核通过的模板，请选择模板")
        name, params = FREE_TEXT, {"content": draft.text}
        if not draft.text.strip():
            raise ApiError("content_invalid", "短信内容不能为空", fields={"text": ["不能为空"]})
    else:
        name, params = str(draft.template), {str(k): str(v) for k, v in draft.params.items()}
        known = PLATFORM_TEMPLATES.get(name)
        if known is None or not known.for_jobs:
            raise ApiError(
                "unknown_template", "短信模板不存在", fields={"template_id": [f"未知模板：{name}"]}
            )
    tpl = template(name)
    try:
        rendered = render_for_account(tpl, params, account)
    except TemplateParamsError as exc:
        raise ApiError("template_params_invalid", "模板参数有误", fields=_slot_errors(exc)) from None
    except MessageLengthError as exc:
        raise ApiError(
            "text_too_long",
            f"短信连同签名共 {exc.length} 字，超过 {MAX_MESSAGE_LENGTH} 字上限",
            fields={"text": [f"最多 {MAX_MESSAGE_LENGTH - len(account.signature)} 字"]},
        ) from None
    return name, tpl, params, rendered


def _slot_errors(exc: TemplateParamsError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for slot in exc.missing:
        fields[f"params.{slot}"] = ["缺少此项"]
    for too_long in exc.too_long:
        fields[f"params.{too_long.slot}"] = [f"最多 {too_long.limit} 字，现为 {too_long.length} 字"]
    for slot in exc.unknown:
        fields[f"params.{slot}"] = ["模板中没有此项"]
    return fields


def sms_job_plan(*, user: Any, draft: JobDraft, now: datetime | None = None) -> JobPlan:
    """Check a draft and work out recipients, exclusions, segments and timing. Raises
    ApiError (404 for an account the caller may not use; 403 urgent_requires_admin; 400
    for bad content or audience). Writes nothing."""
    account = get_in_scope(accounts_usable_by(user=user), draft.account_id, "短信账户不存在")
    if draft.urgent and not user_administers_account(user=user, account=account):
        raise ApiError("urgent_requires_admin", "紧急短信需由学校管理员发送", status_code=403)
    name, tpl, params, rendered = _content(draft, account)
    class_ids = audience_classes(user=user, audience=draft.audience, account=account)
    people = audience_people(
        class_ids=class_ids,
        roles=draft.audience.roles,
        unsubscribed_among=None if draft.urgent else unsubscribed_phones,
    )
    not_before = None if draft.urgent else quiet_hours_end(org=account.org, now=now or timezone.now())
    return JobPlan(account, name, tpl, params, rendered, people.recipients, people.excluded, not_before)


def sms_job_create(*, user: Any, draft: JobDraft, now: datetime | None = None) -> SmsJob:
    """Create a mass text: reserve all its segments at once (409 insufficient_quota /
    account_frozen, and nothing written), write its messages and queue them."""
    now = now or timezone.now()
    with transaction.atomic():
        plan = sms_job_plan(user=user, draft=draft, now=now)
        account = plan.account
        if account_chain_frozen(account):
            raise ApiError("account_frozen", "短信账户已冻结", status_code=409)
        if not plan.recipients:
            raise ApiError("no_recipients", "没有可以接收短信的对象")
        job = SmsJob.objects.create(
            account=account,
            created_by=user,
            audience=draft.audience.as_json(),
            template="" if plan.template_name == FREE_TEXT else plan.template_name,
            params=plan.params,
            text=plan.rendered.text,
            urgent=draft.urgent,
            status=SmsJob.Status.SCHEDULED if plan.not_before else SmsJob.Status.SENDING,
            total=len(plan.recipients),
            segments_per_message=plan.rendered.segments,
            excluded=plan.excluded_counts(),
            not_before=plan.not_before,
        )
        if not ledger_reserve(
            account_id=account.pk,
            segments=plan.segments,
            ref=job.source,
            actor=user,
            memo=f"群发 {job.total} 人",
        ):
            account.refresh_from_db(fields=["balance", "reserved", "frozen"])
            if account.frozen:
                raise ApiError("account_frozen", "短信账户已冻结", status_code=409)
            raise ApiError(
                "insufficient_quota",
                f"短信条数不足：需要 {plan.segments} 条，可用 {account.available} 条",
                status_code=409,
            )
        common = message_fields(
            account=account,
            source=job.source,
            sender_id=user.pk,
            name=plan.template_name,
            tpl=plan.tpl,
            params=plan.params,
            rendered=plan.rendered,
            urgent=draft.urgent,
            job_id=job.pk,
            not_before=plan.not_before,
        )
        # One COPY for the whole job (bulk_create of 100,000 messages spent most of its
        # time preparing fields in the ORM: bench/README.md), then the new ids in one read.
        # What every message shares (text, params, account, …) is prepared once.
        bulk_insert(
            SmsMessage,
            ("phone", "user_id"),
            ((phone, user_id) for user_id, phone in plan.recipients),
            constants=common,
        )
        ids = list(SmsMessage.objects.filter(job=job).order_by("pk").values_list("pk", flat=True))
        audit_record(
            action="sms.job_created",
            actor=user,
            obj=job,
            detail={
                "account_id": account.pk,
                "audience": job.audience,
                "recipients": job.total,
                "excluded": job.excluded,
                "segments": plan.segments,
                "cost": str(plan.cost),
                "urgent": job.urgent,
                "template": plan.template_name,
                "not_before": plan.not_before.isoformat() if plan.not_before else None,
            },
        )
        counts = JobCounts(total=job.total, queued=job.total, segments_reserved=plan.segments)
        send_event_on_commit([user], JOB_PROGRESS, job_progress_data(job, counts, job.status))
        queue_submission(ids, batch_size=SHARED_BATCH, eta=plan.not_before)
    return job
