"""Reads about people and their devices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from backend.schools.selectors import (
    guardian_display_name,
    guardianships_of_user,
    memberships_of_user,
    org_admin_grants_of_user,
    primary_class_role,
    roles_from,
)

from .models import Device, User

if TYPE_CHECKING:
    # Types only: the data itself comes through backend.schools.selectors.
    from backend.schools.models import ClassMembership, SchoolClass

# Roles under which a person is known by their own name even if they are also a parent.
NAMED_ROLES = frozenset({"teacher", "head_teacher", "school_admin", "bureau_admin"})


def app_devices_by_user(*, user_ids: Iterable[int]) -> dict[int, list[str]]:
    """Push tokens of the users who have the app: a registered device and an app login.
    One query for any number of users."""
    tokens: dict[int, list[str]] = {}
    rows = Device.objects.filter(
        user_id__in=list(user_ids), user__first_app_login_at__isnull=False, user__is_active=True
    ).values_list("user_id", "token")
    for user_id, token in rows:
        tokens.setdefault(user_id, []).append(token)
    return tokens


def phones_by_user(*, user_ids: Iterable[int]) -> dict[int, str]:
    """Mobile numbers of active users (for SMS); users without one are absent."""
    rows = User.objects.filter(pk__in=list(user_ids), is_active=True, phone__isnull=False).values_list(
        "pk", "phone"
    )
    return {pk: phone for pk, phone in rows if phone}


@dataclass(frozen=True)
class SchoolRef:
    id: int
    name: str


@dataclass(frozen=True)
class ClassRef:
    id: int
    name: str
    school: SchoolRef
    role: str


@dataclass(frozen=True)
class ChildRef:
    id: int
    name: str
    class_id: int | None
    relation: str


@dataclass(frozen=True)
class OrgRef:
    id: int
    name: str
    kind: str
    role: str


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    display_name: str
    phone: str | None
    roles: list[str]
    classes: list[ClassRef]
    children: list[ChildRef]
    orgs: list[OrgRef]


def user_profile(*, user: User) -> Profile:
    """Who the caller is (GET me/, and the `user` of a login answer): roles, the classes
    they belong to (as teacher or student, or through a child, one entry per class with
    the role a client shows), their children and the orgs they administer.

    A constant number of queries (four) however many classes and children."""
    memberships = list(memberships_of_user(user=user))
    placements: list[tuple[SchoolClass, str]] = [(m.school_class, m.role) for m in memberships]
    links = list(guardianships_of_user(user=user))
    grants = list(org_admin_grants_of_user(user=user))
    roles = roles_from(
        memberships=[(m.role, m.is_head_teacher) for m in memberships],
        is_guardian=bool(links),
        admin_roles=[grant.role for grant in grants],
    )
    children: list[ChildRef] = []
    for link in links:
        child_memberships: list[ClassMembership] = link.student.student_memberships  # type: ignore[attr-defined]
        placements.extend((membership.school_class, "guardian") for membership in child_memberships)
        children.append(
            ChildRef(
                id=link.student.pk,
                name=link.student.name,
                class_id=child_memberships[0].school_class_id if child_memberships else None,
                relation=link.relation,
            )
        )
    classes: dict[int, SchoolClass] = {}
    class_roles: dict[int, list[str]] = {}
    for school_class, role in placements:
        classes.setdefault(school_class.pk, school_class)
        class_roles.setdefault(school_class.pk, []).append(role)
    orgs = [
        OrgRef(id=grant.org.pk, name=grant.org.name, kind=grant.org.kind, role=grant.role) for grant in grants
    ]
    display_name = user.name
    if links and not NAMED_ROLES.intersection(roles):
        display_name = guardian_display_name(student_name=links[0].student.name, relation=links[0].relation)
    return Profile(
        id=user.pk,
        name=user.name,
        display_name=display_name,
        phone=user.phone,
        roles=roles,
        classes=[
            ClassRef(
                id=school_class.pk,
                name=school_class.name,
                school=SchoolRef(id=school_class.school.pk, name=school_class.school.name),
                role=primary_class_role(class_roles[school_class.pk]),
            )
            for school_class in classes.values()
        ],
        children=children,
        orgs=orgs,
    )


def devices_of_user(*, user: User) -> QuerySet[Device]:
    """The caller's own app installations: the scope of devices/ endpoints."""
    return Device.objects.filter(user=user)
