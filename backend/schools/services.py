"""Writes to the org tree, classes, memberships, guardianship and admin roles.

Role changes (memberships, guardianship, org admins) are audited whenever an `actor` is
given: the admin site and the API always pass one; seeds and the roster import (which
audits the whole file once) do not."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from backend.audit.services import audit_record

from .models import ClassMembership, Grade, Guardianship, Org, OrgAdmin, SchoolClass

# The Django group every school and bureau admin is put in, so they can use the admin
# site; what they see there is further limited to their subtree (backend/schools/admin).
SCHOOL_ADMIN_GROUP = "学校管理员"
# Model permissions of that group. Deleting classes and grades (which cascades to every
# membership) is left to platform staff on purpose. Migration 0002 creates the same set.
SCHOOL_ADMIN_PERMISSIONS: tuple[str, ...] = (
    "schools.view_org",
    "schools.change_org",
    "schools.view_grade",
    "schools.add_grade",
    "schools.change_grade",
    "schools.view_schoolclass",
    "schools.add_schoolclass",
    "schools.change_schoolclass",
    "schools.view_classmembership",
    "schools.add_classmembership",
    "schools.change_classmembership",
    "schools.delete_classmembership",
    "schools.view_guardianship",
    "schools.add_guardianship",
    "schools.change_guardianship",
    "schools.delete_guardianship",
    "schools.view_orgadmin",
    "schools.add_orgadmin",
    "schools.delete_orgadmin",
    "schools.view_rosterimport",
    "schools.add_rosterimport",
    "homework.view_assignment",
    "homework.view_submission",
    "homework.view_feedback",
    "checkins.view_checkincampaign",
    "checkins.change_checkincampaign",
    "checkins.view_checkin",
    "checkins.delete_checkin",
    "checkins.view_checkincomment",
    "accounts.view_user",
    "accounts.add_user",
    "accounts.change_user",
    "accounts.view_device",
)


def org_create(*, name: str, kind: str, parent: Org | None = None, code: str = "") -> Org:
    """Add an org under `parent` (or as a root). Idempotent by (parent, name)."""
    fields = {"name": name, "kind": kind, "code": code}
    if parent is None:
        existing = Org.objects.get_root_nodes().filter(name=name).first()
        return existing or Org.objects.add_root(fields)
    parent.refresh_from_db()
    existing = Org.objects.get_children(parent).filter(name=name).first()
    return existing or Org.objects.add_child(parent, fields)


def grade_get_or_create(*, school: Org, name: str, level: int = 0) -> Grade:
    grade, _ = Grade.objects.get_or_create(school=school, name=name, defaults={"level": level})
    return grade


def class_get_or_create(*, school: Org, grade: Grade, name: str) -> SchoolClass:
    school_class, _ = SchoolClass.objects.get_or_create(school=school, name=name, defaults={"grade": grade})
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
    membership, _ = ClassMembership.objects.update_or_create(
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


@transaction.atomic
def membership_remove(*, membership: ClassMembership, actor: Any = None) -> None:
    """Take a user out of a class."""
    detail = {
        "class_id": membership.school_class_id,
        "user_id": membership.user_id,
        "role": membership.role,
        "head": membership.is_head_teacher,
    }
    membership_id = membership.pk
    ClassMembership.objects.filter(pk=membership_id).delete()
    if actor is not None:
        audit_record(
            action="role.class_membership_removed",
            actor=actor,
            object_type="schools.classmembership",
            object_id=membership_id,
            detail=detail,
        )


@transaction.atomic
def guardianship_link(*, guardian: Any, student: Any, relation: str, actor: Any = None) -> Guardianship:
    """Link a guardian to a student (or correct the relation of an existing link)."""
    link, created = Guardianship.objects.get_or_create(
        guardian=guardian, student=student, defaults={"relation": relation}
    )
    changed = created or link.relation != relation
    if not created and link.relation != relation:
        link.relation = relation
        link.save(update_fields=["relation"])
    if actor is not None and changed:
        audit_record(
            action="role.guardianship_linked",
            actor=actor,
            obj=link,
            detail={"guardian_id": guardian.pk, "student_id": student.pk, "relation": relation},
        )
    return link


@transaction.atomic
def guardianship_unlink(*, guardianship: Guardianship, actor: Any = None) -> None:
    """Remove a guardian's link to a student (they stop seeing the child's classes)."""
    detail = {
        "guardian_id": guardianship.guardian_id,
        "student_id": guardianship.student_id,
        "relation": guardianship.relation,
    }
    link_id = guardianship.pk
    Guardianship.objects.filter(pk=link_id).delete()
    if actor is not None:
        audit_record(
            action="role.guardianship_unlinked",
            actor=actor,
            object_type="schools.guardianship",
            object_id=link_id,
            detail=detail,
        )


def school_admin_group() -> Group:
    """The admin-site group of school and bureau admins, created with its permissions if a
    flushed test database (or a hand-cleaned one) lost what migration 0002 made."""
    group, created = Group.objects.get_or_create(name=SCHOOL_ADMIN_GROUP)
    if created:
        wanted = {tuple(name.split(".", 1)) for name in SCHOOL_ADMIN_PERMISSIONS}
        perms = [
            p
            for p in Permission.objects.filter(
                content_type__app_label__in={app for app, _ in wanted},
                codename__in={code for _, code in wanted},
            ).select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
    return group


@transaction.atomic
def org_admin_grant(*, org: Org, user: Any, role: str, actor: Any = None) -> OrgAdmin:
    """Make `user` an admin of `org`'s subtree. They may log into the admin site (staff,
    in the 学校管理员 group), where they see only their subtree."""
    grant, created = OrgAdmin.objects.get_or_create(org=org, user=user, defaults={"role": role})
    if not user.is_staff:
        get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
        user.is_staff = True
    user.groups.add(school_admin_group())
    if created and actor is not None:
        audit_record(
            action="role.org_admin_granted",
            actor=actor,
            obj=grant,
            detail={"org_id": org.pk, "user_id": user.pk, "role": role},
        )
    return grant


@transaction.atomic
def org_admin_revoke(*, grant: OrgAdmin, actor: Any = None) -> None:
    """Remove an admin role. Someone left with no admin role anywhere loses the admin site
    (platform superusers keep theirs)."""
    user = grant.user
    detail = {"org_id": grant.org_id, "user_id": user.pk, "role": grant.role}
    grant_id = grant.pk
    OrgAdmin.objects.filter(pk=grant_id).delete()
    if not OrgAdmin.objects.filter(user=user).exists():
        user.groups.remove(*Group.objects.filter(name=SCHOOL_ADMIN_GROUP))
        if not user.is_superuser and user.is_staff:
            get_user_model().objects.filter(pk=user.pk).update(is_staff=False)
            user.is_staff = False
    if actor is not None:
        audit_record(
            action="role.org_admin_revoked",
            actor=actor,
            object_type="schools.orgadmin",
            object_id=grant_id,
            detail=detail,
        )
