"""Housekeeping for accounts."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(acks_late=True)
def accounts_flush_expired_tokens() -> None:
    """simplejwt keeps every issued and blacklisted refresh token; drop the expired ones."""
    call_command("flushexpiredtokens")
