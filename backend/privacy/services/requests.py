"""Family data requests: an export (a copy of the family's data) and a deletion. The
work happens in Celery tasks queued after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.privacy.models import DataDeletion, DataExport
from backend.privacy.selectors import family_student_ids
from backend.privacy.tasks import privacy_build_export, privacy_run_deletion

DELETE_CONFIRMATION = "删除"


def export_request(*, user: Any, ip: str | None = None) -> DataExport:
    """Queue an export of the caller's family data (their own and their children's)."""

    with transaction.atomic():
        export = DataExport.objects.create(requested_by=user)
        audit_record(
            action="privacy.export_requested",
            actor=user,
            actor_label=f"用户#{user.pk}",
            obj=export,
            ip=ip,
            detail={"student_ids": family_student_ids(user=user)},
        )
        export_id = export.pk
        transaction.on_commit(lambda: privacy_build_export.delay(export_id))
    return export


def deletion_request(
    *, user: Any, confirm: str, student_ids: list[int] | None = None, ip: str | None = None
) -> DataDeletion:
    """Queue the erasure of the family's personal data: the given children (all of the
    caller's children when omitted) and, when no child of theirs is left, the caller.

    Raises ApiError: 400 confirmation_required (confirm must be "删除"); 404
    student_not_found (an id that is not the caller's child). Nothing is written on error."""
    if confirm != DELETE_CONFIRMATION:
        raise ApiError(
            "confirmation_required",
            "请输入“删除”以确认删除家庭数据",
            fields={"confirm": ["请输入“删除”"]},
        )
    children = family_student_ids(user=user)
    wanted = list(dict.fromkeys(student_ids)) if student_ids is not None else children
    if any(s not in children for s in wanted):
        raise ApiError("student_not_found", "学生不存在，或不是您的孩子", status_code=404)

    with transaction.atomic():
        deletion = DataDeletion.objects.create(requested_by=user, student_ids=wanted)
        audit_record(
            action="privacy.deletion_requested",
            actor=user,
            actor_label=f"用户#{user.pk}",
            obj=deletion,
            ip=ip,
            detail={"student_ids": wanted},
        )
        deletion_id = deletion.pk
        transaction.on_commit(lambda: privacy_run_deletion.delay(deletion_id))
    return deletion
