"""consent_granted_exists: the consent rule as an expression, for reads that carry the
consent along (the check-in's one read)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import OuterRef
from django.utils import timezone

from backend.accounts.models import User
from backend.privacy.models import GuardianConsent
from backend.privacy.policy import POLICY_VERSION
from backend.privacy.selectors import consent_granted_exists, consent_granted_student_ids

pytestmark = pytest.mark.django_db


def test_it_agrees_with_consent_granted_student_ids(world: Any) -> None:
    live, withdrawn, regranted, never = world.students[0][:3] + world.students[1][:1]
    guardian_of = {s.pk: g for s, g in zip(world.students[0], world.guardians[0], strict=True)}
    for student in (live, withdrawn, regranted):
        GuardianConsent.objects.create(
            student=student, guardian=guardian_of[student.pk], policy_version=POLICY_VERSION
        )
    GuardianConsent.objects.filter(student__in=[withdrawn, regranted]).update(withdrawn_at=timezone.now())
    GuardianConsent.objects.create(
        student=regranted, guardian=guardian_of[regranted.pk], policy_version=POLICY_VERSION
    )
    ids = [live.pk, withdrawn.pk, regranted.pk, never.pk]

    by_ref = dict(
        User.objects.filter(pk__in=ids)
        .annotate(consented=consent_granted_exists(student=OuterRef("pk")))
        .values_list("pk", "consented")
    )
    by_value = {
        pk: bool(User.objects.annotate(c=consent_granted_exists(student=pk)).filter(pk=pk).get().c)
        for pk in ids
    }

    expected = {pk: pk in consent_granted_student_ids(student_ids=ids) for pk in ids}
    assert expected == {live.pk: True, withdrawn.pk: False, regranted.pk: True, never.pk: False}
    assert {pk: bool(v) for pk, v in by_ref.items()} == expected
    assert by_value == expected
