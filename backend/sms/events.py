"""Realtime events of the SMS app (registered from SmsConfig.ready())."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.realtime.registry import register_event

if TYPE_CHECKING:
    from .models import SmsJob
    from .selectors import JobCounts

JOB_PROGRESS = "sms.job_progress"

_COUNT = {"type": "integer", "minimum": 0}
JOB_PROGRESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "job_id": {"type": "integer"},
        "status": {"enum": ["scheduled", "sending", "completed"]},
        "total": _COUNT,
        "queued": _COUNT,
        "submitted": _COUNT,
        "delivered": _COUNT,
        "failed": _COUNT,
        "unknown": _COUNT,
        "segments_reserved": _COUNT,
        "segments_charged": _COUNT,
    },
    "required": [
        "job_id",
        "status",
        "total",
        "queued",
        "submitted",
        "delivered",
        "failed",
        "unknown",
        "segments_reserved",
        "segments_charged",
    ],
    "additionalProperties": False,
}


def register() -> None:
    register_event(
        JOB_PROGRESS,
        schema=JOB_PROGRESS_SCHEMA,
        description=(
            "群发短信进度 / Progress of a mass text: counts per state and segments held and "
            "charged. `queued` counts texts not yet accepted by the provider (including "
            "retries); fetch GET sms/jobs/{job_id}/ for the full record."
        ),
        audience="the job's sender",
    )


def job_progress_data(job: SmsJob, counts: JobCounts, status: str) -> dict[str, Any]:
    return {
        "job_id": job.pk,
        "status": status,
        "total": counts.total,
        "queued": counts.queued,
        "submitted": counts.submitted,
        "delivered": counts.delivered,
        "failed": counts.failed,
        "unknown": counts.unknown,
        "segments_reserved": counts.segments_reserved,
        "segments_charged": counts.segments_charged,
    }
