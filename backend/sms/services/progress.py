"""Telling a job's sender how it is going (`sms.job_progress`) and keeping the job's
stored status in step with its messages."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from backend.realtime.services import send_event_on_commit
from backend.sms.events import JOB_PROGRESS, job_progress_data
from backend.sms.models import SmsJob
from backend.sms.selectors import job_counts


def jobs_progress_publish(job_ids: Iterable[int]) -> None:
    """Recount the jobs (one query for all), store their status and send the progress
    event to each sender after commit."""
    ids = sorted(set(job_ids))
    if not ids:
        return
    counts = job_counts(job_ids=ids)
    now = timezone.now()
    for job in SmsJob.objects.filter(pk__in=ids):
        job_count = counts[job.pk]
        status = job_count.status(job=job, now=now)
        if status != job.status:
            completed_at = now if status == SmsJob.Status.COMPLETED else None
            SmsJob.objects.filter(pk=job.pk).update(status=status, completed_at=completed_at)
        if job.created_by_id is not None:
            send_event_on_commit([job.created_by_id], JOB_PROGRESS, job_progress_data(job, job_count, status))
