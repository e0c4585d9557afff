"""Reads of the privacy app. Other apps call `consent_granted_student_ids`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Exists, Model, Q, QuerySet

from backend.schools.selectors import guardian_student_ids

from .models import DataDeletion, DataExport, GuardianConsent


def _live_consents() -> QuerySet[GuardianConsent]:
    """Guardian consents that count: the basic scope, not withdrawn."""
    return GuardianConsent.objects.filter(scope=GuardianConsent.Scope.BASIC, withdrawn_at__isnull=True)


def consent_granted_student_ids(*, student_ids: Iterable[int]) -> set[int]:
    """The students among `student_ids` with a live (not withdrawn) guardian consent. One query."""
    wanted = list({int(i) for i in student_ids})
    if not wanted:
        return set()
    return set(_live_consents().filter(student_id__in=wanted).values_list("student_id", flat=True))


def consent_granted_exists(*, student: Any) -> Exists:
    """True in a query when `student` (an id, or an OuterRef/F naming one) has a live
    guardian consent: the rule of consent_granted_student_ids as an expression, so that a
    hot read can carry the consent along instead of asking in a query of its own."""
    return Exists(_live_consents().filter(student_id=student))


def consent_withdrawn_student_ids(*, student_ids: Iterable[int]) -> set[int]:
    """Students whose guardians withdrew consent and none is live now. Two queries at most."""
    wanted = list({int(i) for i in student_ids})
    if not wanted:
        return set()
    withdrawn = set(
        GuardianConsent.objects.filter(student_id__in=wanted, withdrawn_at__isnull=False).values_list(
            "student_id", flat=True
        )
    )
    return withdrawn - consent_granted_student_ids(student_ids=withdrawn) if withdrawn else set()


def consents_of_guardian(*, user: Any) -> QuerySet[GuardianConsent]:
    return GuardianConsent.objects.filter(guardian=user).select_related("student").order_by("-id")


def family_student_ids(*, user: Any) -> list[int]:
    """The caller's children (guardianship links)."""
    return guardian_student_ids(user=user)


def exports_of_user(*, user: Any) -> QuerySet[DataExport]:
    return DataExport.objects.filter(requested_by=user)


def deletions_of_user(*, user: Any) -> QuerySet[DataDeletion]:
    return DataDeletion.objects.filter(requested_by=user)


M = TypeVar("M", bound=Model)


def privacy_hide_withdrawn(queryset: QuerySet[M], *, field: str = "student_id") -> QuerySet[M]:
    """`queryset` without the rows of students whose guardians withdrew consent (and none
    is live again): for class-wide displays. Subqueries only, so no extra query; unchanged
    when PRIVACY_ENFORCE_CONSENT is off."""
    if not getattr(settings, "PRIVACY_ENFORCE_CONSENT", True):
        return queryset
    consents = GuardianConsent.objects.filter(scope=GuardianConsent.Scope.BASIC)
    withdrawn = consents.filter(withdrawn_at__isnull=False).values("student_id")
    live = consents.filter(withdrawn_at__isnull=True).values("student_id")
    return queryset.exclude(Q(**{f"{field}__in": withdrawn}) & ~Q(**{f"{field}__in": live}))
