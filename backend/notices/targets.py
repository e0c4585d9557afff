"""Checks for a new notice, run before anything is written: its content, and whether
the author may post to the target (class, grade, school or a bureau's district)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend.conventions.errors import ApiError
from backend.conventions.scope import ids_in_scope
from backend.schools.models import Org
from backend.schools.selectors import (
    classes_manageable_by,
    grades_administered,
    orgs_administered,
    schools_administered,
)

from .models import Notice

TITLE_MAX = 50
BODY_MAX = 5000
ATTACHMENTS_MAX = 9
TARGET_LABEL_MAX = 200


def invalid(field: str, message: str, code: str = "invalid") -> ApiError:
    return ApiError(code, message, fields={field: [message]})


@dataclass(frozen=True)
class Target:
    scope: str
    org: Org
    school: Org | None
    class_ids: list[int]
    grade_ids: list[int]
    label: str


def _join_label(names: Sequence[str], unit: str) -> str:
    label = "、".join(names)
    if len(label) <= TARGET_LABEL_MAX:
        return label
    return f"{names[0][:60]}等{len(names)}个{unit}"


def _one_school(items: Sequence[Any], field: str) -> Org:
    schools = {item.school_id: item.school for item in items}
    if len(schools) != 1:
        raise invalid(field, "一条通知只能发给同一所学校", code="several_schools")
    return next(iter(schools.values()))


def resolve_target(
    *,
    author: Any,
    class_ids: list[int] | None,
    grade_ids: list[int] | None,
    school_id: int | None,
    org_id: int | None,
) -> Target:
    """Who the notice is for, checked against what the author may post to: a teacher
    their classes; a school admin grades or the whole school; a bureau admin any org
    below them. A foreign or unknown id refuses the whole request (unknown_ids)."""
    given = [bool(class_ids), bool(grade_ids), school_id is not None and not grade_ids, org_id is not None]
    if sum(given) != 1:
        raise ApiError(
            "target_required",
            "请选择且只选择一种发送范围：class_ids、grade_ids、school_id 或 org_id",
            fields={"class_ids": ["请选择发送范围"]},
        )
    if class_ids:
        classes = ids_in_scope(
            classes_manageable_by(user=author).select_related("school"), class_ids, field="class_ids"
        )
        school = _one_school(classes, "class_ids")
        return Target(
            Notice.Scope.CLASSES,
            school,
            school,
            [c.pk for c in classes],
            [],
            _join_label([c.name for c in classes], "班级"),
        )
    if grade_ids:
        grades = ids_in_scope(
            grades_administered(user=author).select_related("school"), grade_ids, field="grade_ids"
        )
        school = _one_school(grades, "grade_ids")
        if school_id is not None and school.pk != school_id:
            raise invalid("school_id", "所选年级不属于该学校", code="unknown_ids")
        label = _join_label([g.name for g in grades], "年级")
        return Target(Notice.Scope.GRADES, school, school, [], [g.pk for g in grades], label)
    if school_id is not None:
        [school] = ids_in_scope(schools_administered(user=author), [school_id], field="school_id")
        return Target(Notice.Scope.SCHOOL, school, school, [], [], school.name)
    [org] = ids_in_scope(orgs_administered(user=author), [int(org_id or 0)], field="org_id")
    if org.kind == Org.Kind.SCHOOL:
        return Target(Notice.Scope.SCHOOL, org, org, [], [], org.name)
    return Target(Notice.Scope.ORG, org, None, [], [], org.name)


def check_content(*, title: str, body: str, audience: str, attachment_ids: list[int]) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not 1 <= len(title) <= TITLE_MAX:
        raise invalid("title", f"标题需为 1–{TITLE_MAX} 个字")
    if not 1 <= len(body) <= BODY_MAX:
        raise invalid("body", f"正文需为 1–{BODY_MAX} 个字")
    if audience not in Notice.Audience.values:
        raise invalid("audience", "接收人只能是 guardians、students 或 all")
    if len(attachment_ids) > ATTACHMENTS_MAX:
        raise invalid("attachment_ids", f"附件最多 {ATTACHMENTS_MAX} 个")
    if any(not isinstance(i, int) or isinstance(i, bool) or i < 1 for i in attachment_ids):
        raise invalid("attachment_ids", "附件编号需为正整数")
    return title, body
