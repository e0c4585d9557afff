"""Input/output shapes of the privacy endpoints."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from backend.privacy.models import DataDeletion, DataExport, GuardianConsent, RequestStatus

_EXPORT_SALT = "privacy.export"


def export_download_token(export_id: int) -> str:
    return signing.TimestampSigner(salt=_EXPORT_SALT).sign(str(export_id))


def export_download_token_check(token: str, *, max_age: int) -> int | None:
    try:
        value = signing.TimestampSigner(salt=_EXPORT_SALT).unsign(token, max_age=max_age)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


class PolicyOutput(serializers.Serializer):
    version = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()


class ConsentInput(serializers.Serializer):
    student_id = serializers.IntegerField(min_value=1)
    scope = serializers.CharField(max_length=16, default=GuardianConsent.Scope.BASIC)
    policy_version = serializers.CharField(max_length=32)


class ConsentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    student_id = serializers.IntegerField()
    student_name = serializers.CharField(source="student.name")
    scope = serializers.CharField()
    policy_version = serializers.CharField()
    granted_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    active = serializers.SerializerMethodField()

    def get_active(self, obj: GuardianConsent) -> bool:
        return obj.withdrawn_at is None


class ExportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="pending / running / ready / failed")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    size = serializers.IntegerField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, obj: DataExport) -> str | None:
        if obj.status != RequestStatus.READY or not obj.expires_at or obj.expires_at <= timezone.now():
            return None
        return reverse("privacy-export-download", args=[export_download_token(obj.pk)])


class DeletionInput(serializers.Serializer):
    student_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=False, max_length=20
    )
    confirm = serializers.CharField(max_length=8)


class DeletionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="pending / running / ready / failed")
    student_ids = serializers.ListField(child=serializers.IntegerField())
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    summary = serializers.DictField(child=serializers.IntegerField())


def deletion_data(deletion: DataDeletion) -> dict[str, Any]:
    return {
        "id": deletion.pk,
        "status": deletion.status,
        "student_ids": deletion.student_ids,
        "created_at": deletion.created_at,
        "finished_at": deletion.finished_at,
        "summary": deletion.summary,
    }
