"""Deciding, row by row, what a roster row means against what the database already holds.

Planning reads only the in-memory state preloaded by the service (a handful of queries
for the whole file), and updates that state as if the row had been applied, so later rows
see earlier ones (a student's second guardian on the next line). A dry run stops here."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from backend.accounts.phones import InvalidPhone, normalize_cn_mobile
from backend.schools.models import Guardianship, SchoolClass
from backend.schools.selectors import guardian_display_name

from .reading import RosterRow, normalize_text

MAX_NAME = 64
MAX_STUDENT_NUMBER = 32
RELATION_ALIASES = {
    **{value: value for value in Guardianship.Relation.values},
    "爸爸": Guardianship.Relation.FATHER,
    "父": Guardianship.Relation.FATHER,
    "妈妈": Guardianship.Relation.MOTHER,
    "母": Guardianship.Relation.MOTHER,
    "祖父": Guardianship.Relation.PATERNAL_GRANDFATHER,
    "祖母": Guardianship.Relation.PATERNAL_GRANDMOTHER,
    "外祖父": Guardianship.Relation.MATERNAL_GRANDFATHER,
    "外祖母": Guardianship.Relation.MATERNAL_GRANDMOTHER,
    # Henan and the north say 姥爷/姥姥 for 外公/外婆.
    "姥爷": Guardianship.Relation.MATERNAL_GRANDFATHER,
    "姥姥": Guardianship.Relation.MATERNAL_GRANDMOTHER,
    "father": Guardianship.Relation.FATHER,
    "mother": Guardianship.Relation.MOTHER,
    "other": Guardianship.Relation.OTHER,
}
CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"


@dataclass(eq=False)
class Person:
    """A user the file refers to; `user` is None until the import creates them."""

    name: str
    user: Any = None
    phone: str | None = None
    student_number: str | None = None
    is_active: bool = True
    is_student: bool = False  # has a student number or a student membership anywhere
    foreign: bool = False  # in a class of another school, or teaches anywhere
    classes: dict[int, int | None] = field(default_factory=dict)  # this school: class id → membership id
    failed: bool = False  # a write for them failed during this import


@dataclass(eq=False)
class Link:
    relation: str
    id: int | None = None


@dataclass
class RosterState:
    classes: dict[str, SchoolClass]  # by normalized name
    class_names: dict[int, str]
    by_number: dict[str, Person]
    by_phone: dict[str, Person]
    links: dict[tuple[Person, Person], Link]
    seen_pairs: dict[tuple[str, str | None], int] = field(default_factory=dict)
    seen_students: dict[str, tuple[int, str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateUser:
    person: Person


@dataclass(frozen=True)
class PlaceInClass:
    person: Person
    school_class: SchoolClass
    reuse_id: int | None  # move this membership instead of creating one
    drop_ids: tuple[int, ...]  # other memberships of the student in this school


@dataclass(frozen=True)
class LinkGuardian:
    student: Person
    guardian: Person
    link: Link


Op = CreateUser | PlaceInClass | LinkGuardian


@dataclass
class RowPlan:
    row: int
    status: str
    code: str
    message: str
    student_number: str = ""
    ops: list[Op] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "student_number": self.student_number,
        }


class Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@lru_cache(maxsize=16384)
def parse_phone(raw: str) -> str | None:
    """The 11-digit number or None; cached because a file's numbers are parsed up to three
    times (preload, validation, student-number check)."""
    try:
        return normalize_cn_mobile(raw)
    except InvalidPhone:
        return None


def _looks_like_phone(text: str) -> bool:
    return parse_phone(text) is not None


def plan_row(row: RosterRow, state: RosterState) -> RowPlan:
    """Validate one row and plan its writes; a rejected row plans none and leaves the state
    as it was."""
    number = row.values["student_number"]
    try:
        plan = _plan(row, state)
    except Rejected as rejected:
        return RowPlan(row.number, REJECTED, rejected.code, rejected.message, number)
    return plan


def _check_fields(values: dict[str, str]) -> bool:
    """Raise on missing or over-long fields; return whether the row names a guardian."""
    required = ["student_name", "student_number", "class_name"]
    guardian_fields = ["guardian_name", "relation", "phone"]
    has_guardian = any(values[key] for key in guardian_fields)
    if has_guardian:
        required += guardian_fields
    labels = {
        "student_name": "学生姓名",
        "student_number": "学号",
        "class_name": "班级",
        "guardian_name": "家长姓名",
        "relation": "关系",
        "phone": "手机号",
    }
    missing = [labels[key] for key in required if not values[key]]
    if missing:
        raise Rejected("missing_field", f"缺少必填项：{'、'.join(missing)}")
    for key, limit in (("student_name", MAX_NAME), ("guardian_name", MAX_NAME), ("class_name", MAX_NAME)):
        if len(values[key]) > limit:
            raise Rejected("field_too_long", f"{labels[key]}超过 {limit} 个字")
    if len(values["student_number"]) > MAX_STUDENT_NUMBER:
        raise Rejected("field_too_long", f"学号超过 {MAX_STUDENT_NUMBER} 个字符")
    return has_guardian


def _plan(row: RosterRow, state: RosterState) -> RowPlan:
    values = row.values
    has_guardian = _check_fields(values)
    number = values["student_number"]
    student_name = values["student_name"]
    if " " in number or _looks_like_phone(number):
        # Logins try a phone number first, so a phone-shaped student number could not log in.
        raise Rejected("invalid_student_number", f"学号“{number}”无效：不能含空格，也不能是手机号")
    phone = relation = None
    if has_guardian:
        phone = parse_phone(values["phone"])
        if phone is None:
            raise Rejected("invalid_phone", f"手机号“{values['phone']}”不是有效的中国大陆手机号")
        relation = RELATION_ALIASES.get(values["relation"].lower())
        if relation is None:
            choices = "、".join(Guardianship.Relation.values)
            raise Rejected("unknown_relation", f"关系“{values['relation']}”无法识别，可填：{choices}")
    school_class = state.classes.get(normalize_text(values["class_name"]))
    if school_class is None:
        raise Rejected("unknown_class", f"班级“{values['class_name']}”在本校不存在，请先在管理后台创建")

    first = state.seen_pairs.get((number, phone))
    if first is not None:
        raise Rejected("duplicate_row", f"与第 {first} 行重复（学号和手机号相同）")
    seen = state.seen_students.get(number)
    if seen is not None and (seen[1] != student_name or seen[2] != school_class.pk):
        raise Rejected("inconsistent_student", f"与第 {seen[0]} 行学号相同，但学生姓名或班级不一致")

    student = state.by_number.get(number)
    if student is not None:
        if student.failed:
            raise Rejected("conflict", "该学生在本次导入的前面行中写入失败，请重新导入")
        if not student.is_active:
            raise Rejected("account_inactive", f"学号 {number} 的账户已停用")
        if student.foreign:
            raise Rejected(
                "student_number_conflict",
                f"学号 {number} 已属于其他学校的学生或教师，如为转学请先由原学校移出",
            )
        if normalize_text(student.name) != student_name:
            raise Rejected(
                "student_name_mismatch",
                f"学号 {number} 已登记为“{student.name}”，与表中姓名“{student_name}”不一致；如需改名请在管理后台修改",
            )
    guardian = state.by_phone.get(phone) if phone else None
    if guardian is not None:
        if guardian.failed:
            raise Rejected("conflict", "该家长在本次导入的前面行中写入失败，请重新导入")
        if guardian.is_student or guardian is student:
            raise Rejected("phone_is_student", f"手机号 {phone} 属于一名学生的账户，不能作为家长手机号")
        if not guardian.is_active:
            raise Rejected("account_inactive", f"手机号 {phone} 的账户已停用")

    # Valid: plan the writes and update the state as if they were done.
    ops: list[Op] = []
    changes: list[tuple[str, str]] = []
    created = False
    if student is None:
        student = Person(name=student_name, student_number=number, is_student=True)
        state.by_number[number] = student
        ops.append(CreateUser(student))
        changes.append(("student_created", "新增学生"))
        created = True
    _plan_class(student, school_class, state, ops, changes)
    if has_guardian and phone is not None and relation is not None:
        if guardian is None:
            guardian = Person(name=values["guardian_name"], phone=phone)
            state.by_phone[phone] = guardian
            ops.append(CreateUser(guardian))
            changes.append(("guardian_created", "新增家长账户"))
        display = guardian_display_name(student_name=student_name, relation=relation)
        link = state.links.get((student, guardian))
        if link is None:
            link = Link(relation=relation)
            state.links[(student, guardian)] = link
            ops.append(LinkGuardian(student, guardian, link))
            changes.append(("guardian_linked", f"关联家长（{display}）"))
            created = True
        elif link.relation != relation:
            link.relation = relation
            ops.append(LinkGuardian(student, guardian, link))
            changes.append(("relation_changed", f"关系更正为{relation}（{display}）"))
    state.seen_pairs[(number, phone)] = row.number
    state.seen_students.setdefault(number, (row.number, student_name, school_class.pk))

    if not ops:
        return RowPlan(row.number, UNCHANGED, "no_change", "无变化", number)
    message = "；".join(text for _, text in changes)
    if not created:
        return RowPlan(row.number, UPDATED, changes[0][0], message, number, ops)
    code = (
        "student_created"
        if isinstance(ops[0], CreateUser) and ops[0].person is student
        else "guardian_linked"
    )
    return RowPlan(row.number, CREATED, code, message, number, ops)


def _plan_class(
    student: Person,
    school_class: SchoolClass,
    state: RosterState,
    ops: list[Op],
    changes: list[tuple[str, str]],
) -> None:
    current = student.classes
    target = school_class.pk
    others = [class_id for class_id in current if class_id != target]
    if target in current and not others:
        return
    existing_ids = [membership_id for c in others if (membership_id := current[c]) is not None]
    if target in current:
        reuse_id, drop_ids = None, existing_ids
        target_id = current[target]
        changes.append(("class_changed", f"移出其他班级，保留{school_class.name}"))
    else:
        reuse_id, drop_ids = (existing_ids[0], existing_ids[1:]) if existing_ids else (None, [])
        target_id = reuse_id
        if others:
            old = "、".join(state.class_names.get(c, "") for c in others)
            changes.append(("class_changed", f"调班：{old} → {school_class.name}"))
        else:
            changes.append(("class_joined", f"加入{school_class.name}"))
    ops.append(PlaceInClass(student, school_class, reuse_id, tuple(drop_ids)))
    student.classes = {target: target_id}
