"""Reads about homework, always through the caller's scope.

A `Viewer` is what the caller is to homework, loaded once per request (four queries):
the classes they teach, the students whose work they may see (themselves as a student,
their children as a guardian) and the org subtrees they administer. Every queryset
below is filtered by it, so an object outside answers 404 (ARCHITECTURE rule 8):

- a teacher sees the assignments of the classes they teach and, in them, the work of
  those classes' students (and corrects it);
- a student sees their own classes' assignments and only their own work;
- a guardian sees their children's classes' assignments and only their children's work;
- a school or bureau admin sees assignments and counts in their subtree, never the work.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from backend.schools.models import ClassMembership, Org
from backend.schools.selectors import (
    admin_org_paths,
    class_members,
    guardian_display_name,
    guardianships_of_students,
    guardianships_of_user,
    memberships_of_user,
)

from .models import Assignment, AssignmentClass, Feedback, Submission

GRADE_SCALES: dict[str, list[str]] = {
    Assignment.GradeScale.LETTERS: ["A", "B", "C", "D", "E"],
    Assignment.GradeScale.WORDS: ["优", "良", "中", "差"],
}

# The file kinds (backend.files) each submission type allows.
KIND_OF_TYPE: dict[str, str] = {
    Assignment.SubmissionType.PHOTO: "image",
    Assignment.SubmissionType.VOICE: "voice",
    Assignment.SubmissionType.VIDEO: "video",
    Assignment.SubmissionType.FILE: "file",
}


@dataclass(frozen=True)
class OwnStudent:
    """A student whose homework the viewer may see and submit: themselves or a child."""

    id: int
    name: str
    class_ids: frozenset[int]
    # How a submission the viewer makes for this student is signed: the student's own
    # name, or "王小明妈妈" for a guardian.
    label: str


@dataclass(frozen=True)
class Viewer:
    user_id: int
    taught_class_ids: frozenset[int] = frozenset()
    students: Mapping[int, OwnStudent] = field(default_factory=dict)
    admin_paths: tuple[str, ...] = ()

    def teacher_classes(self, class_ids: Iterable[int]) -> set[int]:
        return set(class_ids) & self.taught_class_ids

    def students_in(self, class_ids: Iterable[int]) -> list[OwnStudent]:
        wanted = set(class_ids)
        return [s for s in self.students.values() if s.class_ids & wanted]

    def administers(self, school: Org) -> bool:
        return any(school.path.startswith(p) for p in self.admin_paths)

    def visible_class_ids(self) -> set[int]:
        ids = set(self.taught_class_ids)
        for student in self.students.values():
            ids |= student.class_ids
        return ids


def viewer_get(*, user: Any) -> Viewer:
    """The caller's homework scope. Four queries."""
    taught: set[int] = set()
    students: dict[int, OwnStudent] = {}
    own_classes: set[int] = set()
    for membership in memberships_of_user(user=user):
        if membership.role == ClassMembership.Role.TEACHER:
            taught.add(membership.school_class_id)
        else:
            own_classes.add(membership.school_class_id)
    if own_classes:
        students[user.pk] = OwnStudent(user.pk, user.name, frozenset(own_classes), user.name)
    for link in guardianships_of_user(user=user):
        classes = frozenset(m.school_class_id for m in link.student.student_memberships)  # type: ignore[attr-defined]
        if link.student_id not in students:
            label = guardian_display_name(student_name=link.student.name, relation=link.relation)
            students[link.student_id] = OwnStudent(link.student_id, link.student.name, classes, label)
    return Viewer(
        user_id=user.pk,
        taught_class_ids=frozenset(taught),
        students=students,
        admin_paths=tuple(admin_org_paths(user=user)),
    )


def _subtree_q(paths: Iterable[str], field_name: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field_name}__startswith": path})
    return q


def assignments_visible(*, viewer: Viewer) -> QuerySet[Assignment]:
    """Assignments of any class the viewer teaches, attends or has a child in, and every
    assignment in the subtrees they administer. School and classes loaded."""
    links = AssignmentClass.objects.filter(school_class_id__in=viewer.visible_class_ids())
    q = Q(pk__in=links.values("assignment_id")) | _subtree_q(viewer.admin_paths, "school__path")
    return (
        Assignment.objects.filter(q)
        .select_related("school")
        .prefetch_related(
            Prefetch(
                "class_links",
                queryset=AssignmentClass.objects.select_related("school_class").order_by("school_class_id"),
            )
        )
    )


def assignments_authored(*, viewer: Viewer) -> QuerySet[Assignment]:
    """What the viewer may edit, close: their own assignments."""
    return assignments_visible(viewer=viewer).filter(author_id=viewer.user_id)


def assignment_class_ids(assignment: Assignment) -> list[int]:
    """The assignment's classes (from the prefetch of assignments_visible when present)."""
    return [link.school_class_id for link in assignment.class_links.all()]


def submissions_visible(*, viewer: Viewer) -> QuerySet[Submission]:
    """Work of the students of the classes the viewer teaches, and the viewer's own or
    their children's work."""
    q = Q(school_class_id__in=viewer.taught_class_ids) | Q(student_id__in=list(viewer.students))
    return Submission.objects.filter(q).select_related("assignment__school", "school_class", "student")


def submissions_correctable(*, viewer: Viewer) -> QuerySet[Submission]:
    """Work the viewer may give feedback on: that of the classes they teach."""
    return Submission.objects.filter(school_class_id__in=viewer.taught_class_ids).select_related(
        "assignment", "school_class", "student"
    )


def current_feedback_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "feedbacks", queryset=Feedback.objects.filter(is_current=True), to_attr="current_feedbacks"
    )


def current_feedback(submission: Submission) -> Feedback | None:
    """The current feedback of a submission loaded with current_feedback_prefetch()."""
    rows: list[Feedback] = getattr(submission, "current_feedbacks", None) or []
    return rows[0] if rows else None


def submission_versions(*, submission: Submission) -> list[Submission]:
    """Every version of that student's work for that assignment, oldest first."""
    return list(
        Submission.objects.filter(assignment_id=submission.assignment_id, student_id=submission.student_id)
        .prefetch_related(current_feedback_prefetch())
        .order_by("version")
    )


def current_submission(*, assignment: Assignment, student_id: int) -> Submission | None:
    return (
        Submission.objects.filter(assignment=assignment, student_id=student_id, is_current=True)
        .prefetch_related(current_feedback_prefetch())
        .first()
    )


def submission_by_client_id(*, submitted_by: Any, client_id: str) -> Submission | None:
    return (
        Submission.objects.filter(submitted_by=submitted_by, client_id=client_id)
        .select_related("student")
        .first()
    )


# --- Teacher views: stats and the class roster of one assignment ----------------------


@dataclass(frozen=True)
class Stats:
    students: int
    submitted: int
    missing: int
    late: int
    uncorrected: int


def assignment_stats(*, classes_by_assignment: Mapping[int, Collection[int]]) -> dict[int, Stats]:
    """Counts per assignment over the given classes of each (the classes the viewer
    teaches, or all for an admin). Two queries for any number of assignments.

    students: students now in those classes; submitted: those of them with work;
    missing: those without; late: those whose current version came after the due time;
    uncorrected: those whose current version has no feedback yet."""
    all_classes = {c for classes in classes_by_assignment.values() for c in classes}
    if not all_classes:
        return {}
    per_class = dict(
        class_members(class_ids=all_classes, role=ClassMembership.Role.STUDENT)
        .values("school_class_id")
        .annotate(n=Count("user_id"))
        .values_list("school_class_id", "n")
    )
    members = class_members(class_ids=all_classes, role=ClassMembership.Role.STUDENT).filter(
        school_class_id=OuterRef("school_class_id"), user_id=OuterRef("student_id")
    )
    rows = (
        Submission.objects.filter(
            assignment_id__in=list(classes_by_assignment), school_class_id__in=all_classes, is_current=True
        )
        .filter(Exists(members))
        .values("assignment_id", "school_class_id")
        .annotate(
            submitted=Count("id"),
            late=Count("id", filter=Q(late=True)),
            uncorrected=Count("id", filter=Q(feedback_at__isnull=True)),
        )
        .values_list("assignment_id", "school_class_id", "submitted", "late", "uncorrected")
    )
    done: dict[tuple[int, int], tuple[int, int, int]] = {(a, c): (s, late, u) for a, c, s, late, u in rows}
    stats: dict[int, Stats] = {}
    for assignment_id, classes in classes_by_assignment.items():
        students = sum(per_class.get(c, 0) for c in classes)
        counts = [done.get((assignment_id, c), (0, 0, 0)) for c in classes]
        submitted = sum(s for s, _, _ in counts)
        stats[assignment_id] = Stats(
            students=students,
            submitted=submitted,
            missing=max(students - submitted, 0),
            late=sum(late for _, late, _ in counts),
            uncorrected=sum(u for _, _, u in counts),
        )
    return stats


ROSTER_STATES = ("submitted", "missing", "late", "uncorrected")


def assignment_roster(
    *, assignment: Assignment, class_ids: Collection[int], student_ids: Collection[int], state: str | None
) -> QuerySet[ClassMembership]:
    """One row per student of the assignment the viewer may see: every student of
    `class_ids` (classes the viewer teaches) and the students in `student_ids` (the
    viewer's own or children), filtered by the state of their work. Paginate by id."""
    assignment_classes = assignment_class_ids(assignment)
    work = Submission.objects.filter(assignment=assignment, student_id=OuterRef("user_id"))
    current = work.filter(is_current=True)
    rows = class_members(class_ids=assignment_classes, role=ClassMembership.Role.STUDENT).filter(
        Q(school_class_id__in=list(class_ids)) | Q(user_id__in=list(student_ids))
    )
    if state == "submitted":
        rows = rows.filter(Exists(current))
    elif state == "missing":
        rows = rows.filter(~Exists(work))
    elif state == "late":
        rows = rows.filter(Exists(current.filter(late=True)))
    elif state == "uncorrected":
        rows = rows.filter(Exists(current.filter(feedback_at__isnull=True)))
    return rows.select_related("user", "school_class")


def current_submissions_of(
    *, assignment_ids: Iterable[int], student_ids: Iterable[int]
) -> dict[tuple[int, int], Submission]:
    """{(assignment_id, student_id): current version with its current feedback}. Two queries."""
    rows = Submission.objects.filter(
        assignment_id__in=list(assignment_ids), student_id__in=list(student_ids), is_current=True
    ).prefetch_related(current_feedback_prefetch())
    return {(s.assignment_id, s.student_id): s for s in rows}


def missing_recipients(*, assignment: Assignment, class_ids: Collection[int]) -> list[int]:
    """Students of `class_ids` without any work for the assignment, and their guardians.
    Two queries."""
    students = list(
        class_members(class_ids=class_ids, role=ClassMembership.Role.STUDENT)
        .exclude(user_id__in=Submission.objects.filter(assignment=assignment).values("student_id"))
        .values_list("user_id", flat=True)
        .distinct()
    )
    if not students:
        return []
    guardians = guardianships_of_students(student_ids=students).values_list("guardian_id", flat=True)
    return list(dict.fromkeys([*students, *guardians]))


def excellent_submissions(*, assignment: Assignment, class_ids: Collection[int]) -> QuerySet[Submission]:
    """Current versions marked 优秀作业 in the given classes, oldest first."""
    return (
        Submission.objects.filter(
            assignment=assignment,
            school_class_id__in=list(class_ids),
            is_current=True,
            feedbacks__is_current=True,
            feedbacks__excellent=True,
        )
        .select_related("student", "school_class")
        .order_by("id")
    )
