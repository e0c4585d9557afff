"""Reads about schools, classes and people, and the scope every other app filters by.

Scope rules (ARCHITECTURE.md rule 8): a guardian sees their children's classes, a
student their own, a teacher the classes they teach, an admin the subtree under the
org they administer. Everything here returns querysets so callers can stay in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from .models import ClassMembership, Guardianship, Org, OrgAdmin, SchoolClass

# How a guardian is named to others: the child's name plus the relation ("王小明妈妈").
RELATION_SUFFIX = {
    "父亲": "爸爸",
    "母亲": "妈妈",
    "爷爷": "爷爷",
    "奶奶": "奶奶",
    "外公": "外公",
    "外婆": "外婆",
    "其他": "家长",
}


def guardian_display_name(*, student_name: str, relation: str) -> str:
    return f"{student_name}{RELATION_SUFFIX.get(relation, '家长')}"


def org_subtree(*, org: Org, kind: str | None = None) -> QuerySet[Org]:
    """The org and everything under it, in one query on the materialized path."""
    qs = Org.objects.filter(path__startswith=org.path, depth__gte=org.depth)
    return qs.filter(kind=kind) if kind else qs


def _subtree_q(paths: Iterable[str], field: str = "path") -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def admin_org_paths(*, user: Any) -> list[str]:
    return list(OrgAdmin.objects.filter(user=user).values_list("org__path", flat=True))


def schools_administered(*, user: Any) -> QuerySet[Org]:
    """Schools inside any subtree the user administers (school or bureau admin)."""
    paths = admin_org_paths(user=user)
    if not paths:
        return Org.objects.none()
    return Org.objects.filter(_subtree_q(paths), kind=Org.Kind.SCHOOL)


def orgs_administered(*, user: Any) -> QuerySet[Org]:
    paths = admin_org_paths(user=user)
    if not paths:
        return Org.objects.none()
    return Org.objects.filter(_subtree_q(paths))


def is_school_admin_of(*, user: Any, school: Org) -> bool:
    paths = admin_org_paths(user=user)
    return any(school.path.startswith(p) for p in paths)


def guardian_student_ids(*, user: Any) -> list[int]:
    return list(Guardianship.objects.filter(guardian=user).values_list("student_id", flat=True))


def taught_classes(*, user: Any) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(
        memberships__user=user, memberships__role=ClassMembership.Role.TEACHER
    )


def classes_of_students(*, student_ids: Iterable[int]) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(
        memberships__user_id__in=list(student_ids), memberships__role=ClassMembership.Role.STUDENT
    )


def classes_visible_to(*, user: Any) -> QuerySet[SchoolClass]:
    """Every class the user may see anything of, in any role."""
    q = Q(memberships__user=user)
    q |= Q(
        memberships__role=ClassMembership.Role.STUDENT,
        memberships__user__guardian_links__guardian=user,
    )
    paths = admin_org_paths(user=user)
    if paths:
        q |= _subtree_q(paths, field="school__path")
    return SchoolClass.objects.filter(q).distinct()


def classes_manageable_by(*, user: Any) -> QuerySet[SchoolClass]:
    """Classes a user may post to or manage: those they teach, and, for admins, every
    class in their subtree."""
    q = Q(memberships__user=user, memberships__role=ClassMembership.Role.TEACHER)
    paths = admin_org_paths(user=user)
    if paths:
        q |= _subtree_q(paths, field="school__path")
    return SchoolClass.objects.filter(q).distinct()


def user_roles(*, user: Any) -> list[str]:
    """The roles a person holds anywhere: guardian, student, teacher, head_teacher,
    school_admin, bureau_admin (a teacher can also be a parent)."""
    roles: list[str] = []
    memberships = list(ClassMembership.objects.filter(user=user).values_list("role", "is_head_teacher"))
    if any(role == ClassMembership.Role.TEACHER for role, _ in memberships):
        roles.append("teacher")
    if any(head for _, head in memberships):
        roles.append("head_teacher")
    if any(role == ClassMembership.Role.STUDENT for role, _ in memberships):
        roles.append("student")
    if Guardianship.objects.filter(guardian=user).exists():
        roles.append("guardian")
    roles.extend(sorted(set(OrgAdmin.objects.filter(user=user).values_list("role", flat=True))))
    return roles


def class_members(
    *, class_ids: Iterable[int], role: str
) -> QuerySet[ClassMembership]:
    return ClassMembership.objects.filter(school_class_id__in=list(class_ids), role=role)


def guardians_of_classes(*, class_ids: Iterable[int]) -> QuerySet[Guardianship]:
    """Guardianship rows (guardian, student, relation) for every student of the classes."""
    return Guardianship.objects.filter(
        student__class_memberships__school_class_id__in=list(class_ids),
        student__class_memberships__role=ClassMembership.Role.STUDENT,
    )
