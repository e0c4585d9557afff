"""Celery tasks of the SMS app. Each takes ids, calls one service and is safe to run twice
(late acks: a task whose worker died is delivered again)."""

from __future__ import annotations

from celery import shared_task

from .services import maintenance, submission


@shared_task(acks_late=True)
def sms_submit(message_ids: list[int]) -> int:
    """Hand queued texts to the provider (claimed first, so never twice)."""
    return submission.sms_submit(message_ids=message_ids)


@shared_task(acks_late=True)
def sms_reconcile(message_ids: list[int]) -> int:
    """Settle ambiguous texts with the provider's status query."""
    return maintenance.sms_reconcile(message_ids=message_ids)


@shared_task(acks_late=True)
def sms_sweep() -> dict[str, int]:
    """Every minute (beat): requeue due retries and lost tasks, turn stuck submissions
    into ambiguous ones and reconcile them, give up on reports after 72 hours."""
    return maintenance.sms_sweep()
