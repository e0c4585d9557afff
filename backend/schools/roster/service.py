"""roster_import: read the file, preload what exists, plan each row, apply each row in its
own savepoint, record the outcome and audit it.

Writes per row are a few INSERTs/UPDATEs; reads are a handful of bulk queries for the
whole file, so a 1,000-row file imports in seconds. A row that is unchanged writes
nothing, so re-importing a file is harmless."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.services import user_ensure
from backend.audit.services import audit_record
from backend.conventions.errors import ApiError
from backend.schools.models import ClassMembership, Guardianship, Org, RosterImport, SchoolClass

from .planning import (
    REJECTED,
    CreateUser,
    Link,
    LinkGuardian,
    Person,
    PlaceInClass,
    RosterState,
    RowPlan,
    parse_phone,
    plan_row,
)
from .reading import RosterRow, normalize_text, read_roster

# Below SQLite's historical 999-parameter limit, so `__in` lists never overflow.
CHUNK = 900
T = TypeVar("T")


class _RowConflict(Exception):
    """Something the plan relied on changed under us (a concurrent edit)."""


def roster_import(
    *,
    school: Org,
    uploaded_by: Any,
    file_name: str,
    content: bytes,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    ip: str | None = None,
) -> RosterImport:
    """Import a class roster (XLSX or CSV) into `school`: students, their class, guardians.

    Returns the saved RosterImport with per-row results. With dry_run, nothing is written
    and the returned RosterImport is unsaved (status "preview"). A file that cannot be read
    raises RosterFileError (an ApiError, 400) and nothing is written, not even a record.
    Rows never remove anyone: guardians and classes not in the file are left alone.
    `progress(done, total)` is called after each row (the command's progress bar)."""
    if school.kind != Org.Kind.SCHOOL:
        raise ApiError("not_a_school", "只能向学校导入花名册", status_code=400)
    started = timezone.now()
    roster = read_roster(file_name=file_name, content=content)
    with transaction.atomic():
        if not dry_run:
            # One import per school at a time: two uploads must not race on the same people.
            list(Org.objects.select_for_update().filter(pk=school.pk).values_list("pk", flat=True))
        state = _preload(school=school, rows=roster.rows)
        plans: list[RowPlan] = []
        for row in roster.rows:
            plan = plan_row(row, state)
            if plan.ops and not dry_run:
                _apply(plan)
            plans.append(plan)
            if progress is not None:
                progress(len(plans), len(roster.rows))
        record = _record(
            school=school,
            uploaded_by=uploaded_by,
            file_name=file_name,
            file_format=roster.file_format,
            encoding=roster.encoding,
            plans=plans,
            started=started,
            dry_run=dry_run,
        )
        if not dry_run:
            record.save()
            audit_record(
                action="roster.imported",
                actor=uploaded_by,
                actor_label="" if uploaded_by is not None else "import_roster 命令",
                obj=record,
                ip=ip,
                detail={
                    "school_id": school.pk,
                    "file_name": record.file_name,
                    "total_rows": record.total_rows,
                    "created": record.created_count,
                    "updated": record.updated_count,
                    "unchanged": record.unchanged_count,
                    "rejected": record.rejected_count,
                },
            )
    return record


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _preload(*, school: Org, rows: list[RosterRow]) -> RosterState:
    classes = list(SchoolClass.objects.filter(school=school).only("id", "name", "school_id", "grade_id"))

    numbers = sorted({row.values["student_number"] for row in rows if row.values["student_number"]})
    phones = sorted({p for row in rows if row.values["phone"] and (p := parse_phone(row.values["phone"]))})
    user_model = get_user_model()
    fields = ("id", "name", "phone", "student_number", "is_active")
    users: dict[int, Any] = {}
    for number_chunk in _chunks(numbers):
        users.update(
            {u.pk: u for u in user_model.objects.filter(student_number__in=number_chunk).only(*fields)}
        )
    for phone_chunk in _chunks(phones):
        users.update({u.pk: u for u in user_model.objects.filter(phone__in=phone_chunk).only(*fields)})
    persons = {
        pk: Person(
            name=u.name,
            user=u,
            phone=u.phone,
            student_number=u.student_number,
            is_active=u.is_active,
            is_student=bool(u.student_number),
        )
        for pk, u in users.items()
    }
    for chunk in _chunks(persons):
        memberships = ClassMembership.objects.filter(user_id__in=chunk).values_list(
            "id", "user_id", "school_class_id", "school_class__school_id", "role"
        )
        for membership_id, user_id, class_id, school_id, role in memberships:
            person = persons[user_id]
            if role == ClassMembership.Role.STUDENT:
                person.is_student = True
                if school_id == school.pk:
                    person.classes[class_id] = membership_id
            if school_id != school.pk or role == ClassMembership.Role.TEACHER:
                person.foreign = True
    links: dict[tuple[Person, Person], Link] = {}
    student_ids = [pk for pk, person in persons.items() if person.student_number]
    for chunk in _chunks(student_ids):
        existing = Guardianship.objects.filter(student_id__in=chunk).values_list(
            "id", "student_id", "guardian_id", "relation"
        )
        for link_id, student_id, guardian_id, relation in existing:
            guardian = persons.get(guardian_id)
            if guardian is not None:
                links[(persons[student_id], guardian)] = Link(relation=relation, id=link_id)
    return RosterState(
        classes={normalize_text(c.name): c for c in classes},
        class_names={c.pk: c.name for c in classes},
        by_number={p.student_number: p for p in persons.values() if p.student_number},
        by_phone={p.phone: p for p in persons.values() if p.phone},
        links=links,
    )


def _persons(plan: RowPlan) -> set[Person]:
    touched: set[Person] = set()
    for op in plan.ops:
        if isinstance(op, CreateUser | PlaceInClass):
            touched.add(op.person)
        else:
            touched.update((op.student, op.guardian))
    return touched


def _apply(plan: RowPlan) -> None:
    """Write one planned row in its own savepoint; on a conflict the row is rejected and
    nothing of it stays."""
    touched = _persons(plan)
    try:
        with transaction.atomic():
            for op in plan.ops:
                _apply_op(op)
    except (IntegrityError, _RowConflict):
        for person in touched:
            person.failed = True
        plan.status, plan.code, plan.ops = REJECTED, "conflict", []
        plan.message = "写入时与其他修改冲突，本行未导入，请稍后重新导入"


def _apply_op(op: CreateUser | PlaceInClass | LinkGuardian) -> None:
    if isinstance(op, CreateUser):
        person = op.person
        person.user, _ = user_ensure(
            name=person.name, phone=person.phone, student_number=person.student_number
        )
        return
    if isinstance(op, PlaceInClass):
        if op.person.user is None:
            raise _RowConflict
        class_id = op.school_class.pk
        if op.reuse_id is not None:
            moved = ClassMembership.objects.filter(pk=op.reuse_id, role=ClassMembership.Role.STUDENT).update(
                school_class_id=class_id, joined_at=timezone.now()
            )
            if not moved:
                raise _RowConflict
            membership_id = op.reuse_id
        else:
            membership_id = ClassMembership.objects.create(
                school_class_id=class_id, user=op.person.user, role=ClassMembership.Role.STUDENT
            ).pk
        if op.drop_ids:
            ClassMembership.objects.filter(pk__in=op.drop_ids).delete()
        op.person.classes = {class_id: membership_id}
        return
    if op.student.user is None or op.guardian.user is None:
        raise _RowConflict
    if op.link.id is None:
        op.link.id = Guardianship.objects.create(
            guardian=op.guardian.user, student=op.student.user, relation=op.link.relation
        ).pk
    elif not Guardianship.objects.filter(pk=op.link.id).update(relation=op.link.relation):
        raise _RowConflict


def _record(
    *,
    school: Org,
    uploaded_by: Any,
    file_name: str,
    file_format: str,
    encoding: str,
    plans: list[RowPlan],
    started: Any,
    dry_run: bool,
) -> RosterImport:
    counts = Counter(plan.status for plan in plans)
    if dry_run:
        status = RosterImport.Status.PREVIEW
    elif counts[REJECTED] == len(plans):
        status = RosterImport.Status.REJECTED
    elif counts[REJECTED]:
        status = RosterImport.Status.PARTIAL
    else:
        status = RosterImport.Status.COMPLETED
    return RosterImport(
        school=school,
        uploaded_by=uploaded_by if getattr(uploaded_by, "is_authenticated", False) else None,
        file_name=(file_name or "roster")[:255],
        file_format=file_format,
        encoding=encoding,
        status=status,
        total_rows=len(plans),
        created_count=counts["created"],
        updated_count=counts["updated"],
        unchanged_count=counts["unchanged"],
        rejected_count=counts[REJECTED],
        rows=[plan.report() for plan in plans],
        created_at=started,
        finished_at=timezone.now(),
    )
