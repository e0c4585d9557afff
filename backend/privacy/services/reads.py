"""Audit of staff reading minors' data (who read which children, through which endpoint)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from backend.audit.services import audit_record, client_ip

MINOR_DATA_READ = "privacy.minor_data_read"
DEDUP_SECONDS = 3600


def privacy_audit_read(
    *,
    actor: Any,
    student_ids: Iterable[int],
    what: str,
    request: HttpRequest | None,
    class_ids: Iterable[int] = (),
    staff: bool = True,
) -> None:
    """Record that staff (`staff=True`: a teacher or an admin) read children's data.

    At most one record per actor × class (or student, when no class is given) × what ×
    hour, de-duplicated through the cache; written after commit so a read never fails
    and query-counted read paths stay unchanged. No-op for families reading their own."""
    if not staff or actor is None or not getattr(actor, "is_authenticated", False):
        return
    students = sorted({int(i) for i in student_ids})
    classes = sorted({int(i) for i in class_ids})
    if not students and not classes:
        return
    hour = timezone.now().strftime("%Y%m%d%H")
    subjects = [f"c{c}" for c in classes] if classes else [f"s{s}" for s in students]
    fresh = [s for s in subjects if cache.add(f"privacy:read:{actor.pk}:{what}:{s}:{hour}", 1, DEDUP_SECONDS)]
    if not fresh:
        return
    endpoint = request.path[:200] if request is not None else ""
    ip = client_ip(request)
    detail = {"what": what, "student_ids": students, "class_ids": classes, "endpoint": endpoint}
    actor_id = int(actor.pk)
    transaction.on_commit(
        lambda: audit_record(
            action=MINOR_DATA_READ,
            actor=actor,
            actor_label=f"用户#{actor_id}",
            object_type="privacy.minor_data",
            object_id=",".join(fresh)[:64],
            ip=ip,
            detail=detail,
        )
    )
