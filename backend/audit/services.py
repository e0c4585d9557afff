"""Writing audit records. Every app records through `audit_record`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from .models import AuditRecord

RETENTION = timedelta(days=180)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    result: str = AuditRecord.Result.SUCCESS,
    request: HttpRequest | None = None,
    ip: str | None = None,
    detail: Mapping[str, Any] | None = None,
    actor_label: str = "",
) -> AuditRecord:
    """Append one audit record: who, when, what, on which object, with what result, from where."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    label = actor_label or (str(getattr(actor, "name", "") or actor) if actor is not None else "")
    return AuditRecord.objects.create(
        action=action,
        actor=actor,
        actor_label=label[:100],
        object_type=object_type,
        object_id=str(object_id),
        result=result,
        ip=ip or client_ip(request),
        detail=dict(detail or {}),
    )


def audit_purge_expired(*, now: Any = None, retention: timedelta = RETENTION) -> int:
    """Delete records older than the retention period (never younger: at least 180 days)."""
    retention = max(retention, RETENTION)
    cutoff = (now or timezone.now()) - retention
    # A plain QuerySet and _raw_delete bypass the append-only queryset on purpose:
    # retention is the one way out.
    expired: models.QuerySet[AuditRecord] = models.QuerySet(AuditRecord).filter(created_at__lt=cutoff)
    count = expired._raw_delete(expired.db)  # type: ignore[attr-defined]
    return int(count or 0)
