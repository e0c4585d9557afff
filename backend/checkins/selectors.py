"""Reads of campaigns and check-ins, with the caller's scope built in.

Who sees what (BRIEF: minors' data, MOE workload rules):
- a campaign: everyone of its classes (students, their guardians, teachers) and admins
  of its school (or bureau);
- a check-in and its feedback: the student, their guardians, teachers of the student's
  class and school admins of the school (not bureau admins); nobody else, unless the school turned class-wide
  visibility on (then classmates see each other's check-ins, under pseudonyms unless
  names may be public)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from backend.conventions.prepared import PreparedQuery
from backend.conventions.scope import MAX_ID
from backend.privacy.selectors import consent_granted_exists
from backend.schools.models import ClassMembership, OrgAdmin
from backend.schools.pseudonyms import alias_label
from backend.schools.selectors import (
    class_members,
    classes_visible_to,
    guardian_student_ids,
    guardianships_of_students,
    org_admin_grants_of_user,
    taught_classes,
)

from .models import (
    Checkin,
    CheckinAlias,
    CheckinCampaign,
    CheckinCampaignClass,
    CheckinComment,
    CheckinLike,
)
from .schedule import Schedule, local_date
from .streaks import Streaks, compute_streaks

STUDENT = ClassMembership.Role.STUDENT
TEACHER = ClassMembership.Role.TEACHER


# --- Admins ---------------------------------------------------------------------------


def school_admin_paths(*, user: Any) -> list[str]:
    """Org paths the user administers as a SCHOOL admin. Bureau admins are left out on
    purpose: they see campaigns and usage, never children's check-ins (PIPL art. 28/31,
    minimum necessary). One query."""
    return [
        grant.org.path
        for grant in org_admin_grants_of_user(user=user)
        if grant.role == OrgAdmin.Role.SCHOOL_ADMIN
    ]


def school_admin_q(*, user: Any, field: str) -> Q:
    """A filter on an org path field (e.g. "school__path") matching the user's schools as
    school admin; matches nothing for anyone else."""
    q = Q(pk__in=[])
    for path in school_admin_paths(user=user):
        q |= Q(**{f"{field}__startswith": path})
    return q


# --- Campaigns ------------------------------------------------------------------------


def campaigns_visible_to(*, user: Any) -> QuerySet[CheckinCampaign]:
    """Campaigns of any class the user may see (as member, guardian or admin)."""
    classes = classes_visible_to(user=user).values("pk")
    campaign_ids = CheckinCampaignClass.objects.filter(school_class_id__in=classes).values("campaign_id")
    return CheckinCampaign.objects.filter(pk__in=campaign_ids)


def campaigns_with_classes(queryset: QuerySet[CheckinCampaign]) -> QuerySet[CheckinCampaign]:
    """The campaigns with school and classes loaded (two queries per page)."""
    return queryset.select_related("school").prefetch_related(
        Prefetch(
            "campaign_classes",
            queryset=CheckinCampaignClass.objects.select_related("school_class").order_by("school_class_id"),
        )
    )


def campaign_class_ids(campaign: CheckinCampaign) -> list[int]:
    """The campaign's class ids (from the prefetch cache when loaded)."""
    cache = getattr(campaign, "_prefetched_objects_cache", {})
    if "campaign_classes" in cache:
        return [link.school_class_id for link in campaign.campaign_classes.all()]
    return list(
        CheckinCampaignClass.objects.filter(campaign=campaign)
        .order_by("school_class_id")
        .values_list("school_class_id", flat=True)
    )


def schedule_of(campaign: CheckinCampaign) -> Schedule:
    """The days the campaign runs; a closed campaign runs until the day it was closed."""
    end = campaign.end_date
    if campaign.closed_at is not None:
        end = min(end, local_date(campaign.closed_at))
    return Schedule(start=campaign.start_date, end=end, weekdays=frozenset(campaign.weekdays))


@dataclass(frozen=True)
class CampaignAccess:
    """What one user is to one campaign."""

    user_id: int
    class_ids: tuple[int, ...]
    taught_class_ids: frozenset[int]
    is_admin: bool  # school admin of the campaign's school (not bureau admins)
    is_creator: bool
    # The user and their children: every student whose check-ins they may see.
    family_ids: frozenset[int]
    # Of those, the ones who are students of the campaign: student id → class id.
    family_classes: Mapping[int, int] = field(default_factory=dict)

    @property
    def is_staff(self) -> bool:
        return self.is_admin or bool(self.taught_class_ids)

    @property
    def staff_class_ids(self) -> list[int]:
        """Classes whose check-ins, stats and reminders this user oversees."""
        if self.is_admin:
            return list(self.class_ids)
        return [c for c in self.class_ids if c in self.taught_class_ids]

    @property
    def manages(self) -> bool:
        return self.is_creator or self.is_admin


def campaign_access(*, user: Any, campaign: CheckinCampaign) -> CampaignAccess:
    """Four queries at most (class ids come from the prefetch when loaded)."""
    class_ids = campaign_class_ids(campaign)
    taught = frozenset(taught_classes(user=user).filter(pk__in=class_ids).values_list("pk", flat=True))
    family = frozenset({int(user.pk), *guardian_student_ids(user=user)})
    family_classes = dict(
        class_members(class_ids=class_ids, role=STUDENT)
        .filter(user_id__in=family)
        .order_by("id")
        .values_list("user_id", "school_class_id")
    )
    return CampaignAccess(
        user_id=int(user.pk),
        class_ids=tuple(class_ids),
        taught_class_ids=taught,
        is_admin=any(campaign.school.path.startswith(p) for p in school_admin_paths(user=user)),
        is_creator=campaign.created_by_id == user.pk,
        family_ids=family,
        family_classes=family_classes,
    )


def campaign_student_class(*, campaign: CheckinCampaign, student_id: int) -> int | None:
    """The class through which `student_id` takes part in the campaign, or None."""
    return (
        class_members(class_ids=campaign_class_ids(campaign), role=STUDENT)
        .filter(user_id=student_id)
        .order_by("id")
        .values_list("school_class_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class SubmissionContext:
    """What checking in needs to know about (user, campaign, student, client_id)."""

    student_id: int
    # The class through which the student takes part in the campaign, or None.
    class_id: int | None
    # (relation, student name) when the user is a guardian of the student, else None.
    link: tuple[str, str] | None
    # A check-in the user already made in this campaign with this client_id.
    replay_id: int | None
    # The student has a live guardian consent (read along, see privacy). False when
    # unknown: checkin_submit then asks privacy itself.
    consented: bool = False

    def allowed(self, *, user: Any) -> bool:
        """The student takes part in the campaign, and is the user or their child. Such
        a user can see the campaign (a member of one of its classes, or a guardian of a
        student of one), so no separate scope read is needed."""
        return self.class_id is not None and (self.student_id == user.pk or self.link is not None)

    def student_name(self, *, user: Any) -> str:
        """The student's name (when allowed): the guardianship's, or the user's own."""
        return self.link[1] if self.link is not None else str(user.name)


def _submission_queryset(
    *, user_id: int, campaign_id: int, student_id: int, client_id: str
) -> QuerySet[CheckinCampaign]:
    student_class = (
        CheckinCampaignClass.objects.filter(
            campaign=OuterRef("pk"),
            school_class__memberships__user_id=student_id,
            school_class__memberships__role=STUDENT,
        )
        .order_by("school_class__memberships__id")
        .values("school_class_id")[:1]
    )
    # Nobody is their own guardian: for a student checking in for themself these are None.
    guardianship = guardianships_of_students(student_ids=[student_id]).filter(guardian_id=user_id)
    replay = Checkin.objects.filter(campaign=OuterRef("pk"), submitted_by_id=user_id, client_id=client_id)
    return CheckinCampaign.objects.filter(pk=campaign_id).annotate(
        student_class_id=Subquery(student_class),
        replay_id=Subquery(replay.values("pk")[:1]),
        guardian_relation=Subquery(guardianship.values("relation")[:1]),
        guardian_student_name=Subquery(guardianship.values("student__name")[:1]),
        student_consent=consent_granted_exists(student=student_id),
    )


# Compiled once per process: building it cost ~2 ms of CPU per check-in (bench/).
_SUBMISSION = PreparedQuery(
    _submission_queryset, {"user_id": int, "campaign_id": int, "student_id": int, "client_id": str}
)


def submission_context(
    *, user: Any, campaign_id: int, student_id: int, client_id: str
) -> tuple[CheckinCampaign, SubmissionContext] | None:
    """The campaign (None when there is none with that id; scope is the caller's
    business, see SubmissionContext.allowed) with everything checking in needs: the
    student's class in it (their first student membership among its classes), the
    caller's guardianship of the student, an earlier check-in with the same client_id
    and whether the student has a live guardian consent. One query, whatever the
    campaign's size."""
    if not 1 <= student_id <= MAX_ID:
        # No user has that id: nobody to check in for.
        found = CheckinCampaign.objects.filter(pk=campaign_id).first()
        nobody = SubmissionContext(student_id=student_id, class_id=None, link=None, replay_id=None)
        return None if found is None else (found, nobody)
    campaign = _SUBMISSION.first(
        user_id=int(user.pk),
        campaign_id=int(campaign_id),
        student_id=int(student_id),
        client_id=str(client_id),
    )
    if campaign is None:
        return None
    relation = getattr(campaign, "guardian_relation", None)
    context = SubmissionContext(
        student_id=student_id,
        class_id=getattr(campaign, "student_class_id", None),
        link=(str(relation), str(getattr(campaign, "guardian_student_name", "")))
        if relation is not None
        else None,
        replay_id=getattr(campaign, "replay_id", None),
        consented=bool(getattr(campaign, "student_consent", False)),
    )
    return campaign, context


def campaign_visible_to(*, user: Any, campaign_id: int) -> bool:
    return campaigns_visible_to(user=user).filter(pk=campaign_id).exists()


# --- Check-ins ------------------------------------------------------------------------


def checkins_visible_to(*, user: Any) -> QuerySet[Checkin]:
    """Every check-in the user may see, in any campaign: their own, their children's,
    those of classes they teach, and (admins) those of schools they administer."""
    q = Q(student_id=user.pk) | Q(student_id__in=guardian_student_ids(user=user))
    q |= Q(school_class_id__in=taught_classes(user=user).values("pk"))
    q |= school_admin_q(user=user, field="school_class__school__path")
    return Checkin.objects.filter(q)


def campaign_checkins(*, campaign: CheckinCampaign, access: CampaignAccess) -> QuerySet[Checkin]:
    """The campaign's check-ins the user may see (private scope)."""
    qs = Checkin.objects.filter(campaign=campaign)
    if access.is_admin:
        return qs
    return qs.filter(Q(student_id__in=access.family_ids) | Q(school_class_id__in=access.taught_class_ids))


def campaign_class_checkins(*, campaign: CheckinCampaign, access: CampaignAccess) -> QuerySet[Checkin]:
    """Class-wide scope (only when the school allows it): every check-in of the classes
    the user belongs to in this campaign, plus what they may see anyway."""
    class_ids = set(access.family_classes.values()) | set(access.staff_class_ids)
    return Checkin.objects.filter(campaign=campaign).filter(
        Q(school_class_id__in=class_ids) | Q(student_id__in=access.family_ids)
    )


def checkins_with_feedback(queryset: QuerySet[Checkin], *, user: Any) -> QuerySet[Checkin]:
    """Check-ins with student, like count, the caller's like and comments loaded: two
    queries per page."""
    mine = CheckinLike.objects.filter(checkin=OuterRef("pk"), user_id=user.pk, active=True)
    return (
        queryset.select_related("student")
        .annotate(likes_count=Count("likes", filter=Q(likes__active=True)), liked_by_me=Exists(mine))
        .prefetch_related(Prefetch("comments", queryset=CheckinComment.objects.order_by("id")))
    )


def checkin_likes_count(*, checkin: Checkin) -> int:
    return CheckinLike.objects.filter(checkin=checkin, active=True).count()


def student_streaks(*, campaign: CheckinCampaign, student_id: int, today: date) -> Streaks:
    """Streaks of one student: one query for their dates."""
    dates = Checkin.objects.filter(campaign=campaign, student_id=student_id).values_list("date", flat=True)
    return compute_streaks(schedule_of(campaign), dates, today)


# --- Teacher views --------------------------------------------------------------------


@dataclass(frozen=True)
class StudentRef:
    id: int
    name: str
    class_id: int


def campaign_students(*, class_ids: Iterable[int]) -> list[StudentRef]:
    """Students of the classes, by class then name. One query."""
    rows = (
        class_members(class_ids=class_ids, role=STUDENT)
        .order_by("school_class_id", "user__name", "user_id")
        .values_list("user_id", "user__name", "school_class_id")
    )
    seen: set[int] = set()
    students = []
    for user_id, name, class_id in rows:
        if user_id not in seen:
            seen.add(user_id)
            students.append(StudentRef(id=int(user_id), name=str(name), class_id=int(class_id)))
    return students


@dataclass(frozen=True)
class DayStats:
    date: date
    campaign_day: bool
    expected: int
    done: int
    missing: list[StudentRef]


def campaign_day_stats(*, campaign: CheckinCampaign, class_ids: Iterable[int], day: date) -> DayStats:
    """Who of the classes checked in for `day` (make-ups included). Two queries."""
    if not schedule_of(campaign).runs_on(day):
        return DayStats(date=day, campaign_day=False, expected=0, done=0, missing=[])
    students = campaign_students(class_ids=class_ids)
    done = set(Checkin.objects.filter(campaign=campaign, date=day).values_list("student_id", flat=True))
    missing = [s for s in students if s.id not in done]
    return DayStats(
        date=day,
        campaign_day=True,
        expected=len(students),
        done=len(students) - len(missing),
        missing=missing,
    )


@dataclass(frozen=True)
class RankRow:
    rank: int
    student: StudentRef
    streaks: Streaks


def campaign_ranking(*, campaign: CheckinCampaign, class_ids: Iterable[int], today: date) -> list[RankRow]:
    """Students of the classes ranked by days checked in, then current and longest
    streak; ties share a rank (1, 2, 2, 4). Two queries."""
    students = campaign_students(class_ids=class_ids)
    dates: dict[int, list[date]] = {s.id: [] for s in students}
    for student_id, day in Checkin.objects.filter(campaign=campaign, student_id__in=list(dates)).values_list(
        "student_id", "date"
    ):
        dates[student_id].append(day)
    schedule = schedule_of(campaign)
    scored = [(s, compute_streaks(schedule, dates[s.id], today)) for s in students]
    scored.sort(key=lambda pair: (-pair[1].total, -pair[1].current, -pair[1].longest, pair[0].id))
    rows: list[RankRow] = []
    for position, (student, streaks) in enumerate(scored, start=1):
        previous = rows[-1] if rows else None
        same = previous is not None and (
            (previous.streaks.total, previous.streaks.current, previous.streaks.longest)
            == (streaks.total, streaks.current, streaks.longest)
        )
        rank = previous.rank if same and previous is not None else position
        rows.append(RankRow(rank=rank, student=student, streaks=streaks))
    return rows


def campaign_aliases(*, campaign: CheckinCampaign, student_ids: Iterable[int]) -> dict[int, str]:
    """Pseudonym labels ("同学A") of the students that have one. One query."""
    rows = CheckinAlias.objects.filter(campaign=campaign, student_id__in=list(student_ids)).values_list(
        "student_id", "number"
    )
    return {int(student_id): alias_label(number) for student_id, number in rows}


def guardians_of(*, student_ids: Iterable[int]) -> dict[int, list[int]]:
    """Guardian ids per student. One query."""
    result: dict[int, list[int]] = {}
    for student_id, guardian_id in guardianships_of_students(student_ids=student_ids).values_list(
        "student_id", "guardian_id"
    ):
        result.setdefault(int(student_id), []).append(int(guardian_id))
    return result


def teachers_of_class(*, class_id: int) -> list[int]:
    return list(class_members(class_ids=[class_id], role=TEACHER).values_list("user_id", flat=True))


def campaigns_due_for_reminder(*, today: date, earliest: Any, latest: Any) -> QuerySet[CheckinCampaign]:
    """Open campaigns running `today` whose reminder time lies in [earliest, latest] and
    that have not been reminded today."""
    return (
        CheckinCampaign.objects.filter(
            status=CheckinCampaign.Status.OPEN,
            remind_at__isnull=False,
            remind_at__gte=earliest,
            remind_at__lte=latest,
            start_date__lte=today,
            end_date__gte=today,
        )
        .exclude(reminders__date=today)
        .order_by("id")
    )


def manages_campaign(*, user: Any, campaign: CheckinCampaign, admin_paths: list[str]) -> bool:
    """The creator, or a school admin of the campaign's school (paths from
    school_admin_paths, loaded once per page)."""
    return campaign.created_by_id == user.pk or any(campaign.school.path.startswith(p) for p in admin_paths)


# The sweeper leaves younger check-ins to their class's queued announcement batch.
ANNOUNCE_GRACE = timedelta(seconds=60)


def checkin_class_id(*, checkin_id: int) -> int | None:
    """The class a check-in was made in (None when it is gone)."""
    return Checkin.objects.filter(pk=checkin_id).values_list("school_class_id", flat=True).first()


def checkins_overdue_class_ids(*, now: datetime) -> list[int]:
    """Classes with a check-in committed more than ANNOUNCE_GRACE before `now` and still
    not announced: its queued batch was lost (Redis restarted, a worker died)."""
    return list(
        Checkin.objects.filter(announced_at__isnull=True, created_at__lt=now - ANNOUNCE_GRACE)
        .order_by()
        .values_list("school_class_id", flat=True)
        .distinct()
    )
