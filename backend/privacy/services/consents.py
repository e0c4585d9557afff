"""Guardian consent: grant, withdraw, and the guard other apps call before processing a
student's data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.privacy.models import GuardianConsent
from backend.privacy.policy import POLICY_VERSION
from backend.privacy.selectors import consent_granted_student_ids, family_student_ids
from backend.schools.models import Guardianship
from backend.schools.selectors import guardianships_of_students


def enforcement_on() -> bool:
    return bool(getattr(settings, "PRIVACY_ENFORCE_CONSENT", True))


def privacy_require_consent(*, student_id: int) -> None:
    """Refuse (403 guardian_consent_required) to process a student's data without a live
    guardian consent. A no-op when PRIVACY_ENFORCE_CONSENT is off. At most one query."""
    if not enforcement_on():
        return
    if not consent_granted_student_ids(student_ids=[student_id]):
        raise ApiError(
            "guardian_consent_required",
            "需要监护人先在家长端同意《儿童个人信息保护规则》，才能提交该学生的打卡和作业",
            status_code=403,
        )


def _actor_label(user: Any) -> str:
    # Audit rows outlive a family's deletion: they name people by id only.
    return f"用户#{user.pk}"


@transaction.atomic
def consent_grant(
    *, guardian: Any, student_id: int, scope: str, policy_version: str, ip: str | None = None
) -> tuple[GuardianConsent, bool]:
    """Record the guardian's consent for their child. Returns (consent, created); a live
    consent for the same child and scope is returned as is.

    Raises ApiError: 404 student_not_found (not the caller's child); 400 invalid_scope,
    policy_version_outdated."""
    if scope not in GuardianConsent.Scope.values:
        raise ApiError("invalid_scope", "scope 只能是 basic", fields={"scope": ["只能是 basic"]})
    if student_id not in family_student_ids(user=guardian):
        raise ApiError("student_not_found", "学生不存在，或不是您的孩子", status_code=404)
    if policy_version != POLICY_VERSION:
        raise ApiError(
            "policy_version_outdated",
            "规则已更新，请阅读最新版本后再同意",
            fields={"policy_version": [f"当前版本为 {POLICY_VERSION}"]},
        )
    live = GuardianConsent.objects.filter(
        guardian=guardian, student_id=student_id, scope=scope, withdrawn_at__isnull=True
    ).first()
    if live is not None:
        return live, False
    try:
        with transaction.atomic():
            consent = GuardianConsent.objects.create(
                guardian=guardian, student_id=student_id, scope=scope, policy_version=policy_version, ip=ip
            )
    except IntegrityError:
        # A concurrent copy of the same request won the partial unique constraint.
        return GuardianConsent.objects.get(
            guardian=guardian, student_id=student_id, scope=scope, withdrawn_at__isnull=True
        ), False
    audit_record(
        action="privacy.consent_granted",
        actor=guardian,
        actor_label=_actor_label(guardian),
        obj=consent,
        ip=ip,
        detail={"student_id": student_id, "scope": scope, "policy_version": policy_version},
    )
    return consent, True


@transaction.atomic
def consent_withdraw(*, consent: GuardianConsent, actor: Any, ip: str | None = None) -> GuardianConsent:
    """Withdraw a consent (idempotent). From then on the student's new check-ins and
    submissions are refused (unless another guardian's consent is live) and their
    check-ins are hidden from class-wide views."""
    if consent.withdrawn_at is not None:
        return consent
    consent.withdrawn_at = timezone.now()
    GuardianConsent.objects.filter(pk=consent.pk).update(withdrawn_at=consent.withdrawn_at)
    audit_record(
        action="privacy.consent_withdrawn",
        actor=actor,
        actor_label=_actor_label(actor),
        obj=consent,
        ip=ip,
        detail={"student_id": consent.student_id, "scope": consent.scope},
    )
    return consent


def privacy_demo_consents(*, student_ids: Iterable[int] | None = None) -> int:
    """Record consent for every (or the given) student with a guardian, from their first
    guardian, so the demo and `make run` work with enforcement on. Idempotent; returns the
    number of consents created."""
    links = (
        guardianships_of_students(student_ids=student_ids)
        if student_ids is not None
        else Guardianship.objects.all()  # the demo seed: every family
    )
    first: dict[int, int] = {}
    for student_id, guardian_id in links.order_by("id").values_list("student_id", "guardian_id"):
        first.setdefault(student_id, guardian_id)
    already = consent_granted_student_ids(student_ids=first)
    rows = [
        GuardianConsent(
            student_id=student_id,
            guardian_id=guardian_id,
            scope=GuardianConsent.Scope.BASIC,
            policy_version=POLICY_VERSION,
        )
        for student_id, guardian_id in first.items()
        if student_id not in already
    ]
    GuardianConsent.objects.bulk_create(rows)
    return len(rows)
