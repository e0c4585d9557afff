"""Privacy tasks: take ids, call one function, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from .erasure import deletion_run
from .exporting import export_build


@shared_task(acks_late=True)
def privacy_build_export(export_id: int) -> str:
    """Build the family's ZIP; a ready export is not rebuilt."""
    return export_build(export_id=export_id)


@shared_task(acks_late=True)
def privacy_run_deletion(deletion_id: int) -> str:
    """Erase the family's personal data; a finished deletion is not re-run."""
    return deletion_run(deletion_id=deletion_id)
