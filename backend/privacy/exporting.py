"""Building a family's data export: one JSON file per area in a ZIP, the requester's own
data and their children's only.

This module reads other apps' models directly: a data-subject export must see every row
about a person, and the owning apps have no selector for "everything about these users"."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.checkins.models import Checkin
from backend.homework.models import Submission
from backend.notices.models import NoticeReceipt
from backend.schools.models import ClassMembership, Guardianship
from backend.sms.models import SmsMessage, SmsReply

from .models import DataExport, GuardianConsent, RequestStatus

EXPORT_TTL = timedelta(hours=24)


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "name": user.name,
        "phone": user.phone,
        "student_number": user.student_number,
        "date_joined": user.date_joined,
        "first_app_login_at": user.first_app_login_at,
    }


def family_data(*, user: User) -> dict[str, Any]:
    """Everything the export holds, per area (file name without .json → rows)."""
    links = list(Guardianship.objects.filter(guardian=user).select_related("student").order_by("id"))
    child_ids = [link.student_id for link in links]
    family = [user.pk, *child_ids]
    memberships = ClassMembership.objects.filter(user_id__in=family).select_related(
        "school_class__school", "school_class__grade"
    )
    receipts = NoticeReceipt.objects.filter(recipient_id__in=family).select_related("notice")
    checkins = (
        Checkin.objects.filter(student_id__in=family)
        .select_related("campaign")
        .prefetch_related("comments")
        .order_by("id")
    )
    submissions = (
        Submission.objects.filter(student_id__in=family)
        .select_related("assignment")
        .prefetch_related("feedbacks")
        .order_by("id")
    )
    phone_q = Q(user_id=user.pk) | (Q(phone=user.phone) if user.phone else Q())
    sms = SmsMessage.objects.filter(phone_q).order_by("id")
    replies = SmsReply.objects.filter(phone_q).order_by("id")
    consents = GuardianConsent.objects.filter(Q(guardian=user) | Q(student_id__in=child_ids)).order_by("id")
    return {
        "profile": _profile(user),
        "children": [
            {**_profile(link.student), "relation": link.relation, "linked_at": link.created_at}
            for link in links
        ],
        "class_memberships": [
            {
                "user_id": m.user_id,
                "school": m.school_class.school.name,
                "grade": m.school_class.grade.name,
                "class_id": m.school_class_id,
                "class": m.school_class.name,
                "role": m.role,
                "joined_at": m.joined_at,
            }
            for m in memberships.order_by("id")
        ],
        "notices": [
            {
                "notice_id": r.notice_id,
                "recipient_id": r.recipient_id,
                "title": r.notice.title,
                "body": r.notice.body,
                "author_name": r.notice.author_name,
                "published_at": r.notice.created_at,
                "received_at": r.created_at,
                "read_at": r.read_at,
                "confirmed_at": r.confirmed_at,
            }
            for r in receipts.order_by("id")
        ],
        "checkins": [
            {
                "id": c.pk,
                "student_id": c.student_id,
                "campaign": c.campaign.title,
                "date": c.date,
                "is_makeup": c.is_makeup,
                "text": c.text,
                "attachment_ids": c.attachment_ids,
                "submitted_by": c.submitted_by_name,
                "created_at": c.created_at,
                "comments": [
                    {"author": x.author_name, "text": x.text, "created_at": x.created_at}
                    for x in c.comments.all()
                ],
            }
            for c in checkins
        ],
        "homework": [
            {
                "id": s.pk,
                "student_id": s.student_id,
                "assignment": s.assignment.title,
                "subject": s.assignment.subject,
                "version": s.version,
                "text": s.text,
                "attachment_ids": s.attachment_ids,
                "submitted_at": s.submitted_at,
                "late": s.late,
                "feedback": [
                    {
                        "teacher": f.teacher_name,
                        "score": f.score,
                        "grade": f.grade,
                        "comment": f.comment,
                        "created_at": f.created_at,
                    }
                    for f in s.feedbacks.all()
                ],
            }
            for s in submissions
        ],
        "sms": [
            {"id": m.pk, "phone": m.phone, "text": m.text, "state": m.state, "queued_at": m.queued_at}
            for m in sms
        ]
        + [
            {"reply_id": r.pk, "phone": r.phone, "content": r.content, "received_at": r.received_at}
            for r in replies
        ],
        "consents": [
            {
                "id": c.pk,
                "guardian_id": c.guardian_id,
                "student_id": c.student_id,
                "scope": c.scope,
                "policy_version": c.policy_version,
                "granted_at": c.granted_at,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in consents
        ],
    }


def _zip(data: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for area, rows in data.items():
            body = json.dumps(rows, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
            archive.writestr(f"{area}.json", body)
    return buffer.getvalue()


def export_build(*, export_id: int) -> str:
    """Build and store the ZIP of one export request; returns its status."""
    export = DataExport.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is None or export.status == RequestStatus.READY:
        return export.status if export else "missing"
    DataExport.objects.filter(pk=export_id).update(status=RequestStatus.RUNNING)
    try:
        body = _zip(family_data(user=export.requested_by))
        name = default_storage.save(
            f"privacy-exports/{export_id}-{secrets.token_hex(8)}.zip", ContentFile(body)
        )
    except Exception:
        DataExport.objects.filter(pk=export_id).update(
            status=RequestStatus.FAILED, finished_at=timezone.now()
        )
        raise
    now = timezone.now()
    with transaction.atomic():
        DataExport.objects.filter(pk=export_id).update(
            status=RequestStatus.READY,
            file_path=name,
            size=len(body),
            finished_at=now,
            expires_at=now + EXPORT_TTL,
        )
        audit_record(
            action="privacy.export_built",
            actor_label=f"用户#{export.requested_by_id}",
            object_type="privacy.dataexport",
            object_id=export_id,
            detail={"size": len(body)},
        )
    return RequestStatus.READY
