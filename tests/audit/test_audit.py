"""The audit log is append-only and kept at least 180 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from backend.audit.models import AppendOnlyError, AuditRecord
from backend.audit.services import audit_purge_expired, audit_record

pytestmark = pytest.mark.django_db


def test_records_who_what_when_where(world):
    admin = world.school_admins[0]
    record = audit_record(
        action="roster.imported", actor=admin, obj=world.schools[0], ip="10.1.2.3", detail={"rows": 3}
    )
    record.refresh_from_db()
    assert record.actor == admin
    assert record.actor_label == admin.name
    assert record.object_type == "schools.org"
    assert record.object_id == str(world.schools[0].pk)
    assert record.ip == "10.1.2.3"
    assert record.detail == {"rows": 3}


def test_cannot_update_or_delete(world):
    record = audit_record(action="x", actor=world.teachers[0])
    record.action = "changed"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=record.pk).update(action="changed")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.get(pk=record.pk).action == "x"


def test_purge_keeps_180_days_even_if_asked_for_less():
    with time_machine.travel(timezone.now() - timedelta(days=200), tick=False):
        old = audit_record(action="old")
    with time_machine.travel(timezone.now() - timedelta(days=170), tick=False):
        recent = audit_record(action="recent")
    purged = audit_purge_expired(retention=timedelta(days=30))
    assert purged == 1
    assert not AuditRecord.objects.filter(pk=old.pk).exists()
    assert AuditRecord.objects.filter(pk=recent.pk).exists()
