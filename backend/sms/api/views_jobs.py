"""Mass texting (群发短信) over the API: preview, create (Idempotency-Key), progress."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.conventions.idempotency import idempotent
from backend.conventions.pagination import IdCursorPagination, page_of
from backend.conventions.schema import error_responses
from backend.conventions.scope import get_in_scope
from backend.sms.audience import Audience
from backend.sms.models import SmsJob
from backend.sms.selectors import JobCounts, job_counts, jobs_visible_to
from backend.sms.services import JobDraft, sms_job_create, sms_job_plan
from backend.sms.services.jobs import segment_price

from .serializers import JobInput, JobOutput, PreviewOutput

TAGS = ["sms"]
MAX_EXCLUDED_SHOWN = 500
_ERRORS = (
    "Errors: `invalid` (400, malformed body), `audience_invalid` (400), `unknown_ids` (400, "
    "classes or grades outside the caller's scope), `content_invalid` (400), `unknown_template` "
    "(400), `template_params_invalid` (400, `fields` names the slot), `text_too_long` (400, over "
    "500 characters with the signature), `free_text_not_supported` (400, the provider sends "
    "approved templates only), `audience_outside_account` (400), `urgent_requires_admin` (403), "
    "`not_found` (404, an account or school the caller may not use)"
)


def _draft(request: Request) -> JobDraft:
    data = JobInput(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    audience = values["audience"]
    return JobDraft(
        account_id=values["account_id"],
        audience=Audience(
            class_ids=tuple(audience.get("class_ids", ())),
            grade_ids=tuple(audience.get("grade_ids", ())),
            school_id=audience.get("school_id"),
            org_id=audience.get("org_id"),
            roles=tuple(dict.fromkeys(audience["roles"])),
        ),
        template=values.get("template_id"),
        text=values.get("text"),
        params=values["params"],
        urgent=values["urgent"],
    )


def job_data(job: SmsJob, counts: JobCounts) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": counts.status(job=job, now=timezone.now()),
        "account_id": job.account_id,
        "template_id": job.template,
        "text": job.text,
        "urgent": job.urgent,
        "audience": job.audience,
        "total": job.total,
        "queued": counts.queued,
        "submitted": counts.submitted,
        "delivered": counts.delivered,
        "failed": counts.failed,
        "unknown": counts.unknown,
        "segments_per_message": job.segments_per_message,
        "segments_reserved": counts.segments_reserved,
        "segments_charged": counts.segments_charged,
        "segments_refunded": counts.segments_refunded,
        "cost": str(segment_price() * (counts.segments_reserved + counts.segments_charged)),
        "excluded": job.excluded,
        "scheduled_for": job.not_before,
        "created_at": job.created_at,
        "completed_at": job.completed_at,
    }


class JobPreviewView(APIView):
    @extend_schema(
        operation_id="sms_jobs_preview",
        summary="群发短信预览 / Preview a mass text",
        description=(
            "Who would get the text, how many segments it costs and who is left out and why "
            "(duplicate, no_phone, invalid_phone, unsubscribed — unsubscribed numbers still get "
            "urgent texts). Nothing is written or reserved. Non-urgent texts in the school's "
            "quiet hours show when they would go out (`scheduled_for`).\n\n" + _ERRORS + "."
        ),
        request=JobInput,
        responses={
            200: PreviewOutput,
            **error_responses(
                "400 invalid audience_invalid unknown_ids content_invalid unknown_template template_params_invalid text_too_long free_text_not_supported audience_outside_account",
                "403 urgent_requires_admin",
                "404 not_found",
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        draft = _draft(request)
        plan = sms_job_plan(user=request.user, draft=draft)
        return Response(
            {
                "account_id": plan.account.pk,
                "text": plan.rendered.text,
                "length": len(plan.rendered.text),
                "recipients": len(plan.recipients),
                "segments_per_message": plan.rendered.segments,
                "segments": plan.segments,
                "cost": str(plan.cost),
                "available": plan.account.available,
                "sufficient": plan.account.available >= plan.segments,
                "urgent": draft.urgent,
                "scheduled_for": plan.not_before,
                "excluded_counts": plan.excluded_counts(),
                "excluded": [
                    {"user_id": e.user_id, "name": e.name, "reason": e.reason}
                    for e in plan.excluded[:MAX_EXCLUDED_SHOWN]
                ],
                "excluded_truncated": len(plan.excluded) > MAX_EXCLUDED_SHOWN,
            }
        )


class JobListCreateView(APIView):
    @extend_schema(
        operation_id="sms_jobs_create",
        summary="群发短信 / Send a mass text",
        description=(
            "Reserves all segments at once and queues the texts; they go out in provider-sized "
            "batches, after the school's quiet hours unless `urgent` (admins only). Progress "
            "arrives as `sms.job_progress` events. Send an `Idempotency-Key` header: a retry "
            "returns the first job (200) and sends nothing again.\n\n"
            + _ERRORS
            + ", `no_recipients` (400), `insufficient_quota` (409), `account_frozen` (409), "
            "`idempotency_key_reused` (409)."
        ),
        request=JobInput,
        responses={
            201: JobOutput,
            **error_responses(
                "400 invalid audience_invalid unknown_ids content_invalid unknown_template template_params_invalid text_too_long free_text_not_supported audience_outside_account no_recipients invalid_idempotency_key",
                "403 urgent_requires_admin",
                "404 not_found",
                "409 insufficient_quota account_frozen idempotency_key_reused",
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        def create() -> Response:
            job = sms_job_create(user=request.user, draft=_draft(request))
            return Response(job_data(job, job_counts(job_ids=[job.pk])[job.pk]), status=201)

        return idempotent(request, create)

    @extend_schema(
        operation_id="sms_jobs_list",
        summary="群发任务列表 / Mass texts",
        description="The caller's own jobs, and for admins every job of their subtree; newest first.",
        responses={200: page_of(JobOutput)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(jobs_visible_to(user=request.user), request, self) or []
        counts = job_counts(job_ids=[j.pk for j in page])
        return paginator.get_paginated_response([job_data(j, counts[j.pk]) for j in page])


class JobDetailView(APIView):
    @extend_schema(
        operation_id="sms_jobs_retrieve",
        summary="群发进度 / Progress of a mass text",
        description=(
            "Counts per state (`queued` = not yet accepted by the provider, including retries) "
            "and segments reserved / charged / refunded.\n\nErrors: `not_found` (404)."
        ),
        parameters=[OpenApiParameter("job_id", int, OpenApiParameter.PATH)],
        responses={200: JobOutput, **error_responses("404 not_found")},
        tags=TAGS,
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = get_in_scope(jobs_visible_to(user=request.user), job_id, "群发任务不存在")
        return Response(job_data(job, job_counts(job_ids=[job.pk])[job.pk]))
