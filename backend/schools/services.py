"""Writes to the org tree, classes, memberships and guardianship."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.audit.services import audit_record

from .models import ClassMembership, Grade, Guardianship, Org, OrgAdmin, SchoolClass


def org_create(*, name: str, kind: str, parent: Org | None = None, code: str = "") -> Org:
    """Add an org under `parent` (or as a root). Idempotent by (parent, name)."""
    if parent is None:
        existing = Org.get_root_nodes().filter(name=name).first()
        return existing or Org.add_root(name=name, kind=kind, code=code)
    parent.refresh_from_db()
    existing = parent.get_children().filter(name=name).first()
    return existing or parent.add_child(name=name, kind=kind, code=code)


def grade_get_or_create(*, school: Org, name: str, level: int = 0) -> Grade:
    grade, _ = Grade.objects.get_or_create(school=school, name=name, defaults={"level": level})
    return grade


def class_get_or_create(*, school: Org, grade: Grade, name: str) -> SchoolClass:
    school_class, _ = SchoolClass.objects.get_or_create(
        school=school, name=name, defaults={"grade": grade}
    )
    return school_class


@transaction.atomic
def membership_set(
    *,
    school_class: SchoolClass,
    user: Any,
    role: str,
    is_head_teacher: bool = False,
    subject: str = "",
    actor: Any = None,
) -> ClassMembership:
    """Put a user in a class with a role. A new head teacher replaces the old one."""
    if is_head_teacher:
        ClassMembership.objects.filter(school_class=school_class, is_head_teacher=True).exclude(
            user=user
        ).update(is_head_teacher=False)
    membership, created = ClassMembership.objects.update_or_create(
        school_class=school_class,
        user=user,
        defaults={"role": role, "is_head_teacher": is_head_teacher, "subject": subject},
    )
    if actor is not None:
        audit_record(
            action="role.class_membership_set",
            actor=actor,
            obj=membership,
            detail={"class_id": school_class.pk, "user_id": user.pk, "role": role, "head": is_head_teacher},
        )
    return membership


def guardianship_link(*, guardian: Any, student: Any, relation: str) -> Guardianship:
    link, created = Guardianship.objects.get_or_create(
        guardian=guardian, student=student, defaults={"relation": relation}
    )
    if not created and link.relation != relation:
        link.relation = relation
        link.save(update_fields=["relation"])
    return link


def org_admin_grant(*, org: Org, user: Any, role: str, actor: Any = None) -> OrgAdmin:
    grant, created = OrgAdmin.objects.get_or_create(org=org, user=user, defaults={"role": role})
    if created and actor is not None:
        audit_record(
            action="role.org_admin_granted",
            actor=actor,
            obj=grant,
            detail={"org_id": org.pk, "user_id": user.pk, "role": role},
        )
    return grant
