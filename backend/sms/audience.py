"""Whom a mass text reaches (reads): the audience's classes within the caller's scope,
and the people in them, with who is left out and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from backend.conventions.errors import ApiError
from backend.conventions.scope import get_in_scope, ids_in_scope
from backend.schools.models import SchoolClass
from backend.schools.selectors import (
    class_audience,
    classes_administered,
    classes_manageable_by,
    grades_administered,
    orgs_administered,
    schools_administered,
)
from sms_gateway.phones import check_phone

from .models import SmsAccount

ROLES = ("guardians", "teachers")
EXCLUSION_REASONS = ("duplicate", "no_phone", "invalid_phone", "unsubscribed")


@dataclass(frozen=True)
class Audience:
    """Exactly one of class_ids, grade_ids, school_id or org_id (a bureau's district)."""

    class_ids: tuple[int, ...] = ()
    grade_ids: tuple[int, ...] = ()
    school_id: int | None = None
    org_id: int | None = None
    roles: tuple[str, ...] = ("guardians",)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"roles": list(self.roles)}
        if self.class_ids:
            data["class_ids"] = list(self.class_ids)
        if self.grade_ids:
            data["grade_ids"] = list(self.grade_ids)
        if self.school_id is not None:
            data["school_id"] = self.school_id
        if self.org_id is not None:
            data["org_id"] = self.org_id
        return data


@dataclass(frozen=True)
class Exclusion:
    user_id: int
    name: str
    reason: str


@dataclass
class People:
    recipients: list[tuple[int, str]] = field(default_factory=list)  # (user_id, phone)
    excluded: list[Exclusion] = field(default_factory=list)


def audience_classes(*, user: Any, audience: Audience, account: SmsAccount) -> list[int]:
    """Ids of the audience's classes. Classes outside the caller's scope answer like
    unknown ones (400 unknown_ids / 404); classes outside the account's org subtree are
    refused (an account pays for its own schools only)."""
    chosen = [bool(audience.class_ids), bool(audience.grade_ids), audience.school_id is not None]
    chosen.append(audience.org_id is not None)
    if sum(chosen) != 1:
        raise ApiError(
            "audience_invalid",
            "请指定发送对象：班级、年级、学校或区域之一",
            fields={"audience": ["class_ids、grade_ids、school_id、org_id 需且只需填写一项"]},
        )
    if not audience.roles or any(role not in ROLES for role in audience.roles):
        raise ApiError(
            "audience_invalid", "发送对象角色无效", fields={"audience.roles": ["可选 guardians、teachers"]}
        )
    classes: QuerySet[SchoolClass]
    if audience.class_ids:
        picked = ids_in_scope(
            classes_manageable_by(user=user), list(audience.class_ids), "audience.class_ids"
        )
        classes = SchoolClass.objects.filter(pk__in=[c.pk for c in picked])
    elif audience.grade_ids:
        grades = ids_in_scope(grades_administered(user=user), list(audience.grade_ids), "audience.grade_ids")
        classes = classes_administered(user=user).filter(grade_id__in=[g.pk for g in grades])
    elif audience.school_id is not None:
        school = get_in_scope(schools_administered(user=user), audience.school_id, "学校不存在")
        classes = classes_administered(user=user).filter(school=school)
    else:
        org = get_in_scope(orgs_administered(user=user), audience.org_id, "机构不存在")
        classes = classes_administered(user=user).filter(school__path__startswith=org.path)
    if classes.exclude(school__path__startswith=account.org.path).exists():
        raise ApiError(
            "audience_outside_account",
            "发送对象不在该短信账户所属机构范围内",
            fields={"account_id": ["请选择发送对象所在机构的账户"]},
        )
    return list(classes.values_list("pk", flat=True))


def audience_people(
    *,
    class_ids: Iterable[int],
    roles: Iterable[str],
    unsubscribed_among: Callable[[Iterable[str]], set[str]] | None,
) -> People:
    """Recipients (one per person and number) and exclusions, in the selector's order.
    `unsubscribed_among` (phones → those unsubscribed) is None for urgent texts, which
    reach unsubscribed numbers too."""
    # Each stored number normalised once (None: none stored, "": stored but not valid).
    rows = [
        (user_id, name, (check_phone(raw).phone or "") if raw else None)
        for user_id, name, raw in class_audience(class_ids=class_ids, roles=roles)
    ]
    unsubscribed: set[str] | None = None
    if unsubscribed_among is not None:
        unsubscribed = unsubscribed_among(phone for _, _, phone in rows if phone)
    people = People()
    seen_users: set[int] = set()
    seen_phones: set[str] = set()
    for user_id, name, phone in rows:
        if user_id in seen_users:
            people.excluded.append(Exclusion(user_id, name, "duplicate"))
            continue
        seen_users.add(user_id)
        if phone is None:
            people.excluded.append(Exclusion(user_id, name, "no_phone"))
            continue
        if not phone:
            people.excluded.append(Exclusion(user_id, name, "invalid_phone"))
        elif phone in seen_phones:
            people.excluded.append(Exclusion(user_id, name, "duplicate"))
        elif unsubscribed is not None and phone in unsubscribed:
            people.excluded.append(Exclusion(user_id, name, "unsubscribed"))
        else:
            seen_phones.add(phone)
            people.recipients.append((user_id, phone))
    return people
