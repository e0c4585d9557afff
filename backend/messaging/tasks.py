"""Celery tasks of messaging: take nothing or ids, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task
def messaging_release_office_hours() -> int:
    """Every minute (beat): push teachers whose office hours just started."""
    from .services import office_hours_release_due

    return office_hours_release_due()
