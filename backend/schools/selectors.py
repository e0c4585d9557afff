"""Reads about schools, classes and people, and the scope every other app filters by.

Scope rules (ARCHITECTURE.md rule 8): a guardian sees their children's classes, a
student their own, a teacher the classes they teach, an admin the subtree under the
org they administer. Everything here returns querysets so callers can stay in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet

from .models import ClassMembership, Grade, Guardianship, Org, OrgAdmin, RosterImport, SchoolClass

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
    return SchoolClass.objects.filter(memberships__user=user, memberships__role=ClassMembership.Role.TEACHER)


def classes_of_students(*, student_ids: Iterable[int]) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(
        memberships__user_id__in=list(student_ids), memberships__role=ClassMembership.Role.STUDENT
    )


def classes_visible_to(*, user: Any) -> QuerySet[SchoolClass]:
    """Every class the user may see anything of, in any role."""
    q = member_or_guardian_class_q(user=user)
    paths = admin_org_paths(user=user)
    if paths:
        q |= _subtree_q(paths, field="school__path")
    return SchoolClass.objects.filter(q)


def member_or_guardian_class_q(*, user: Any, field: str = "pk") -> Q:
    """A filter on `field` (a class id) for the classes the user is in (any role) or a
    child of theirs is a student of. Each way in is its own index-driven subquery: one
    OR across the membership and guardianship joins made PostgreSQL scan all of both
    tables (0.1 s per call with 100,000 families, on every check-in: bench/ checkin_burst)."""
    own = ClassMembership.objects.filter(user=user).values("school_class_id")
    children = ClassMembership.objects.filter(
        role=ClassMembership.Role.STUDENT,
        user_id__in=Guardianship.objects.filter(guardian=user).values("student_id"),
    ).values("school_class_id")
    return Q(**{f"{field}__in": own}) | Q(**{f"{field}__in": children})


def classes_manageable_by(*, user: Any) -> QuerySet[SchoolClass]:
    """Classes a user may post to or manage: those they teach, and, for admins, every
    class in their subtree."""
    taught = ClassMembership.objects.filter(user=user, role=ClassMembership.Role.TEACHER).values(
        "school_class_id"
    )
    q = Q(pk__in=taught)
    paths = admin_org_paths(user=user)
    if paths:
        q |= _subtree_q(paths, field="school__path")
    return SchoolClass.objects.filter(q)


def roles_from(
    *, memberships: Iterable[tuple[str, bool]], is_guardian: bool, admin_roles: Iterable[str]
) -> list[str]:
    """The roles a person holds anywhere — guardian, student, teacher, head_teacher,
    school_admin, bureau_admin (a teacher can also be a parent) — from rows the caller
    already holds: (role, is_head_teacher) of each class membership, whether they have a
    child, their org admin roles."""
    memberships = list(memberships)
    roles: list[str] = []
    if any(role == ClassMembership.Role.TEACHER for role, _ in memberships):
        roles.append("teacher")
    if any(head for _, head in memberships):
        roles.append("head_teacher")
    if any(role == ClassMembership.Role.STUDENT for role, _ in memberships):
        roles.append("student")
    if is_guardian:
        roles.append("guardian")
    roles.extend(sorted(set(admin_roles)))
    return roles


def class_members(*, class_ids: Iterable[int], role: str) -> QuerySet[ClassMembership]:
    return ClassMembership.objects.filter(school_class_id__in=list(class_ids), role=role)


def guardians_of_classes(*, class_ids: Iterable[int]) -> QuerySet[Guardianship]:
    """Guardianship rows (guardian, student, relation) for every student of the classes."""
    return Guardianship.objects.filter(
        student__class_memberships__school_class_id__in=list(class_ids),
        student__class_memberships__role=ClassMembership.Role.STUDENT,
    )


# --- Admin scope, class roster reads and roster imports -------------------------------


def admin_scope_q(*, user: Any, field: str) -> Q:
    """A filter on `field` (an org path, e.g. "school__path") matching the subtrees the
    user administers; matches nothing for a user who administers nothing."""
    return _subtree_q(admin_org_paths(user=user), field=field)


def classes_administered(*, user: Any) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(admin_scope_q(user=user, field="school__path"))


def grades_administered(*, user: Any) -> QuerySet[Grade]:
    return Grade.objects.filter(admin_scope_q(user=user, field="school__path"))


def users_administered(*, user: Any) -> QuerySet[Any]:
    """People an admin may manage: members of classes in their subtree, those students'
    guardians and admins of orgs inside the subtree. Never platform superusers, and never
    someone who also administers an org outside the caller's subtree (another school's
    admin must not be edited from here)."""
    paths = admin_org_paths(user=user)
    if not paths:
        return get_user_model().objects.none()
    member_ids = ClassMembership.objects.filter(_subtree_q(paths, "school_class__school__path")).values(
        "user_id"
    )
    guardian_ids = Guardianship.objects.filter(
        _subtree_q(paths, "student__class_memberships__school_class__school__path"),
        student__class_memberships__role=ClassMembership.Role.STUDENT,
    ).values("guardian_id")
    admin_ids = OrgAdmin.objects.filter(_subtree_q(paths, "org__path")).values("user_id")
    foreign_admin_ids = OrgAdmin.objects.exclude(_subtree_q(paths, "org__path")).values("user_id")
    return (
        get_user_model()
        .objects.filter(Q(pk__in=member_ids) | Q(pk__in=guardian_ids) | Q(pk__in=admin_ids))
        .exclude(is_superuser=True)
        .exclude(pk__in=foreign_admin_ids)
    )


def class_roles(*, user: Any, classes: Iterable[SchoolClass]) -> dict[int, list[str]]:
    """The caller's roles in each class: teacher, head_teacher, student, guardian,
    school_admin or bureau_admin. Three queries for any number of classes."""
    classes = list(classes)
    class_ids = [c.pk for c in classes]
    roles: dict[int, list[str]] = {pk: [] for pk in class_ids}
    for class_id, role, head in ClassMembership.objects.filter(
        user=user, school_class_id__in=class_ids
    ).values_list("school_class_id", "role", "is_head_teacher"):
        roles[class_id].append(role)
        if head:
            roles[class_id].append("head_teacher")
    child_classes = set(
        ClassMembership.objects.filter(
            school_class_id__in=class_ids,
            role=ClassMembership.Role.STUDENT,
            user__guardian_links__guardian=user,
        ).values_list("school_class_id", flat=True)
    )
    for class_id in child_classes:
        roles[class_id].append("guardian")
    grants = list(OrgAdmin.objects.filter(user=user).values_list("org__path", "role"))
    for school_class in classes:
        school_path = school_class.school.path
        for path, role in grants:
            if school_path.startswith(path) and role not in roles[school_class.pk]:
                roles[school_class.pk].append(role)
    return roles


def primary_class_role(roles: list[str]) -> str:
    """The one role a client shows for a class (a teacher who is also a parent there is a
    teacher first)."""
    for role in ("teacher", "student", "guardian", "school_admin", "bureau_admin"):
        if role in roles:
            return role
    return ""


def classes_visible_with_details(*, user: Any) -> QuerySet[SchoolClass]:
    """classes_visible_to with school, grade and head counts, in one query per page."""
    visible = classes_visible_to(user=user).values("pk")
    return (
        SchoolClass.objects.filter(pk__in=visible)
        .select_related("school", "grade")
        .annotate(
            student_count=Count("memberships", filter=Q(memberships__role=ClassMembership.Role.STUDENT)),
            teacher_count=Count("memberships", filter=Q(memberships__role=ClassMembership.Role.TEACHER)),
        )
    )


def class_memberships(*, school_class: SchoolClass, role: str | None = None) -> QuerySet[ClassMembership]:
    qs = ClassMembership.objects.filter(school_class=school_class).select_related("user")
    return qs.filter(role=role) if role else qs


def guardianships_of_students(*, student_ids: Iterable[int]) -> QuerySet[Guardianship]:
    return (
        Guardianship.objects.filter(student_id__in=list(student_ids))
        .select_related("guardian")
        .order_by("student_id", "id")
    )


def sees_contact_details(*, user: Any, school_class: SchoolClass) -> bool:
    """Teachers of the class and admins of its school see (masked) phone numbers of the
    class's people; guardians and students never do."""
    is_teacher = ClassMembership.objects.filter(
        school_class=school_class, user=user, role=ClassMembership.Role.TEACHER
    ).exists()
    return is_teacher or is_school_admin_of(user=user, school=school_class.school)


def roster_imports_of_school(*, school: Org) -> QuerySet[RosterImport]:
    return RosterImport.objects.filter(school=school).select_related("uploaded_by")


# --- A person's own affiliations (the accounts app's me/) ----------------------------


def memberships_of_user(*, user: Any) -> QuerySet[ClassMembership]:
    """The user's own class memberships (as teacher or student), class and school loaded."""
    return (
        ClassMembership.objects.filter(user=user)
        .select_related("school_class__school")
        .order_by("school_class_id")
    )


def guardianships_of_user(*, user: Any) -> QuerySet[Guardianship]:
    """The user's links to their children, oldest first (the first one names the guardian,
    "王小明妈妈"). Each child carries `student_memberships`: their memberships as a student,
    class and school loaded. Two queries for any number of children."""
    student_memberships = (
        ClassMembership.objects.filter(role=ClassMembership.Role.STUDENT)
        .select_related("school_class__school")
        .order_by("id")
    )
    return (
        Guardianship.objects.filter(guardian=user)
        .select_related("student")
        .prefetch_related(
            Prefetch(
                "student__class_memberships", queryset=student_memberships, to_attr="student_memberships"
            )
        )
        .order_by("id")
    )


def org_admin_grants_of_user(*, user: Any) -> QuerySet[OrgAdmin]:
    """The orgs the user administers, with the org loaded."""
    return OrgAdmin.objects.filter(user=user).select_related("org").order_by("id")


# --- Audiences of class-wide sends (notices) -----------------------------------------
# Querysets so a district-wide audience stays a subquery, never a list of ids in memory.


def classes_of_targets(
    *,
    class_ids: Iterable[int] | None = None,
    grade_ids: Iterable[int] | None = None,
    org: Org | None = None,
) -> QuerySet[SchoolClass]:
    """The classes a send addresses: the given classes, every class of the given grades,
    or every class of every school under `org` (a school, or a bureau's county/city)."""
    q = Q(pk__in=[])
    if class_ids:
        q |= Q(pk__in=list(class_ids))
    if grade_ids:
        q |= Q(grade_id__in=list(grade_ids))
    if org is not None:
        q |= Q(school__path__startswith=org.path)
    return SchoolClass.objects.filter(q)


def student_memberships_in(*, classes: QuerySet[SchoolClass]) -> QuerySet[ClassMembership]:
    """Student memberships of the classes (a subquery on `classes`); active students."""
    return ClassMembership.objects.filter(
        role=ClassMembership.Role.STUDENT, school_class__in=classes, user__is_active=True
    )


def guardianships_in(*, classes: QuerySet[SchoolClass]) -> QuerySet[Guardianship]:
    """Guardianship rows of active guardians whose child is an active student of the classes."""
    return Guardianship.objects.filter(
        student_id__in=student_memberships_in(classes=classes).values("user_id"), guardian__is_active=True
    )


def guardian_children_in(
    *, classes: QuerySet[SchoolClass], guardian_ids: Iterable[int]
) -> list[tuple[int, int, str, str, str]]:
    """(guardian_id, student_id, student_name, relation, class_name) for each child of the
    given guardians who is a student of one of the classes. Two index-driven queries
    (one join with an IN list on both sides makes SQLite probe every pair)."""
    links = list(
        Guardianship.objects.filter(guardian_id__any=list(guardian_ids))
        .order_by("guardian_id", "id")
        .values_list("guardian_id", "student_id", "student__name", "relation")
    )
    class_of = {
        student_id: class_name
        for student_id, _, class_name in students_in(classes=classes, student_ids={s for _, s, _, _ in links})
    }
    return [(int(g), int(s), str(n), str(r), class_of[s]) for g, s, n, r in links if s in class_of]


def students_in(*, classes: QuerySet[SchoolClass], student_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """(student_id, name, class_name) for the given students of the classes. One query."""
    rows = (
        student_memberships_in(classes=classes)
        .filter(user_id__any=list(student_ids))
        .order_by("user_id", "id")
        .values_list("user_id", "user__name", "school_class__name")
    )
    return [(int(s), str(n), str(c)) for s, n, c in rows]


def guardianships_administered(*, user: Any) -> QuerySet[Guardianship]:
    """Links of students who are in a class inside the user's subtree."""
    student_ids = ClassMembership.objects.filter(
        admin_scope_q(user=user, field="school_class__school__path"), role=ClassMembership.Role.STUDENT
    ).values("user_id")
    return Guardianship.objects.filter(student_id__in=student_ids)


def classes_for_admin_site(*, user: Any) -> QuerySet[SchoolClass]:
    """Classes an admin-site user may pick: all for platform superusers, else their subtree's."""
    queryset = (
        SchoolClass.objects.all() if getattr(user, "is_superuser", False) else classes_administered(user=user)
    )
    return queryset.select_related("school", "grade")


# --- Mass-texting audiences (used by backend.sms) ---------------------------------------


def class_audience(*, class_ids: Iterable[int], roles: Iterable[str]) -> list[tuple[int, str, str | None]]:
    """Whom a mass text about these classes reaches: (user_id, name, phone) of the active
    guardians of their students (role "guardians") and of their teachers ("teachers").
    One row per appearance (a guardian of two pupils appears twice), so the caller can
    report duplicates. One query per role, however many classes."""
    ids = list(class_ids)
    wanted = set(roles)
    rows: list[tuple[int, str, str | None]] = []
    if "guardians" in wanted:
        rows.extend(
            Guardianship.objects.filter(
                student__class_memberships__school_class_id__in=ids,
                student__class_memberships__role=ClassMembership.Role.STUDENT,
                guardian__is_active=True,
            )
            .order_by("guardian_id", "id")
            .values_list("guardian_id", "guardian__name", "guardian__phone")
        )
    if "teachers" in wanted:
        rows.extend(
            ClassMembership.objects.filter(
                school_class_id__in=ids, role=ClassMembership.Role.TEACHER, user__is_active=True
            )
            .order_by("user_id", "id")
            .values_list("user_id", "user__name", "user__phone")
        )
    return rows
