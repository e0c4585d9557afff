"""Erasing a family's personal data on the guardian's request.

What goes: names (→ "已删除用户"), phone numbers and student numbers, passwords, devices,
refresh tokens, guardianship links, class memberships (removed through the schools
service, so the school's audit trail shows "removed from class"), check-ins with their
comments and likes, homework submissions with their feedback, uploaded files, the
names on notice receipts, and the phone number on SMS records (masked).
What stays: user rows as anonymous ids (other tables point at them), notice and SMS
counters, billing rows, consents (proof of what was agreed, ids only) and the audit log
(网络安全法 art. 21, ids only).

Like the export, this module touches other apps' models directly: erasure must reach every
row about a person, which no single app's service covers."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import Device, User
from backend.accounts.phones import mask_phone
from backend.accounts.services import user_deactivate
from backend.audit.services import audit_record
from backend.checkins.models import Checkin
from backend.files.models import File
from backend.homework.models import Submission
from backend.notices.models import NoticeReceipt
from backend.schools.models import ClassMembership, Guardianship
from backend.schools.services import membership_remove
from backend.sms.models import SmsMessage, SmsReply

from .models import DataDeletion, GuardianConsent, RequestStatus

DELETED_NAME = "已删除用户"


def _delete_blobs(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _delete_files(ids: set[int], owner_ids: list[int]) -> int:
    files = list(File.objects.filter(Q(pk__in=ids) | Q(owner_id__in=owner_ids)))
    names = [f.blob.name for f in files if f.blob.name]
    # The bytes go after commit: a rolled-back erasure must not lose files.
    transaction.on_commit(lambda: _delete_blobs(names))
    File.objects.filter(pk__in=[f.pk for f in files]).delete()
    return len(files)


def _anonymise(user: User) -> None:
    phone = user.phone
    user.name = DELETED_NAME
    User.objects.filter(pk=user.pk).update(
        name=DELETED_NAME,
        phone=None,
        # The login constraint needs phone or student number; this one cannot log in.
        student_number=f"deleted-{user.pk}",
        password="!",
        avatar="",
    )
    user_deactivate(user=user, actor=None)
    Device.objects.filter(user=user).delete()
    NoticeReceipt.objects.filter(recipient=user).update(display_name=DELETED_NAME, students=[])
    if phone:
        masked = mask_phone(phone)
        SmsMessage.objects.filter(phone=phone).update(phone=masked, user=None)
        SmsReply.objects.filter(phone=phone).update(phone=masked, content="", user=None)


@transaction.atomic
def family_erase(*, requester: User, student_ids: list[int]) -> dict[str, int]:
    """Erase the listed children and, when none of the requester's children is left,
    the requester. Returns counts of what was removed."""
    erase_requester = not (
        Guardianship.objects.filter(guardian=requester).exclude(student_id__in=student_ids).exists()
    )
    owners = [*student_ids, *([requester.pk] if erase_requester else [])]
    counts: dict[str, int] = {}
    checkins = Checkin.objects.filter(student_id__in=student_ids)
    submissions = Submission.objects.filter(student_id__in=student_ids)
    file_ids = {int(i) for ids in checkins.values_list("attachment_ids", flat=True) for i in ids or []}
    file_ids |= {int(i) for ids in submissions.values_list("attachment_ids", flat=True) for i in ids or []}
    counts["checkins"] = checkins.count()
    counts["submissions"] = submissions.count()
    checkins.delete()
    submissions.delete()
    counts["files"] = _delete_files(file_ids, owners)
    # Other guardians keep their accounts but no longer see the erased children.
    links = Guardianship.objects.filter(Q(student_id__in=student_ids) | Q(guardian_id__in=owners))
    counts["guardianships"] = links.count()
    links.delete()
    GuardianConsent.objects.filter(student_id__in=student_ids, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    # Names go first, so the membership audit records below carry no name.
    for student in User.objects.filter(pk__in=student_ids):
        _anonymise(student)
    if erase_requester:
        _anonymise(requester)
    memberships = list(ClassMembership.objects.filter(user_id__in=owners))
    for membership in memberships:
        membership_remove(membership=membership, actor=requester)
    counts["class_memberships"] = len(memberships)
    counts["users"] = len(student_ids) + int(erase_requester)
    return counts


def deletion_run(*, deletion_id: int) -> str:
    """Run one deletion request; a finished one is not run again."""
    deletion = DataDeletion.objects.select_related("requested_by").filter(pk=deletion_id).first()
    if deletion is None or deletion.requested_by is None or deletion.status == RequestStatus.READY:
        return deletion.status if deletion else "missing"
    requester = deletion.requested_by
    with transaction.atomic():
        counts = family_erase(requester=requester, student_ids=[int(i) for i in deletion.student_ids])
        DataDeletion.objects.filter(pk=deletion_id).update(
            status=RequestStatus.READY, summary=counts, finished_at=timezone.now()
        )
        audit_record(
            action="privacy.deletion_completed",
            actor_label=f"用户#{requester.pk}",
            object_type="privacy.datadeletion",
            object_id=deletion_id,
            detail={"requested_by": requester.pk, "student_ids": deletion.student_ids, **counts},
        )
    return RequestStatus.READY
