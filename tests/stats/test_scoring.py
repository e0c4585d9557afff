"""Seed 003 rules against hand-computed cases, through stats_compute_week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from backend.stats.models import DailyActivity, ScoreEvidence, TeacherWeekScore
from backend.stats.rules import login_items
from backend.stats.services import stats_compute_week, stats_record_login

from .conftest import (
    LAST_WEEK,
    NOW,
    WEEK,
    add_students,
    at,
    make_assignment,
    make_campaign,
    make_checkins,
    make_discussion,
    make_notice,
    make_submissions,
)


def points(teacher: Any, row: str, week: Any = WEEK) -> int:
    score = TeacherWeekScore.objects.filter(teacher=teacher, row=row, week=week).first()
    return score.points if score else 0


def guardians(pairs: list[tuple[Any, Any]]) -> list[Any]:
    return [g for _, g in pairs]


def test_third_qualifying_notice_in_a_week_scores_nothing(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    families = guardians(add_students(klass, 10))
    for day in range(3):
        make_notice(teacher, klass, families, at=at(WEEK + timedelta(days=day)), title=f"通知{day}")
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "class_notice") == 10
    evidence = ScoreEvidence.objects.filter(score__teacher=teacher, score__row="class_notice").order_by("day")
    assert [(e.points, e.capped) for e in evidence] == [(5, False), (5, False), (0, True)]
    assert evidence[2].label == "通知《通知2》"


def test_notice_needs_ten_readers_not_ten_recipients(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    families = guardians(add_students(klass, 12))
    make_notice(teacher, klass, families[:9], others=families[9:], at=at(WEEK))
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "class_notice") == 0
    assert not TeacherWeekScore.objects.filter(teacher=teacher, row="class_notice").exists()


def test_notice_counts_in_the_week_it_was_published_shanghai_time(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    families = guardians(add_students(klass, 10))
    # Sunday 23:30 in Shanghai is still last week (15:30 UTC on Sunday).
    make_notice(teacher, klass, families, at=at(WEEK - timedelta(days=1), 23).replace(minute=30))
    stats_compute_week(week=WEEK, now=NOW)
    stats_compute_week(week=LAST_WEEK, now=NOW)
    assert points(teacher, "class_notice") == 0
    assert points(teacher, "class_notice", LAST_WEEK) == 5


def test_sixth_checkin_activity_scores_nothing(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    student = world.students[0][0]
    for n in range(6):
        campaign = make_campaign(teacher, klass, title=f"习惯{n}")
        make_checkins(campaign, klass, [student], day=WEEK + timedelta(days=n % 3))
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "habit") == 5
    evidence = ScoreEvidence.objects.filter(score__teacher=teacher, score__row="habit")
    assert sorted(e.points for e in evidence) == [0, 1, 1, 1, 1, 1]
    assert evidence.filter(capped=True).count() == 1


def test_campaign_without_participation_scores_no_habit_point(world: Any) -> None:
    make_campaign(world.teachers[0], world.classes[0])
    stats_compute_week(week=WEEK, now=NOW)
    assert points(world.teachers[0], "habit") == 0


def test_class_activity_with_fifteen_participants_scores_five_once(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    students = [s for s, _ in add_students(klass, 12)] + world.students[0]  # 15
    for title in ("阅读", "跳绳"):
        make_checkins(make_campaign(teacher, klass, title=title), klass, students, day=WEEK)
    small = make_campaign(teacher, klass, title="小活动")
    make_checkins(small, klass, students[:14], day=WEEK)
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "class_activity") == 5  # two qualify, once a week
    assert points(teacher, "habit") == 3


def test_class_activity_by_five_commented_works(world: Any) -> None:
    from backend.checkins.models import CheckinComment

    teacher, klass = world.teachers[0], world.classes[0]
    students = [s for s, _ in add_students(klass, 5)]
    campaign = make_campaign(teacher, klass)
    for checkin in make_checkins(campaign, klass, students, day=WEEK):
        CheckinComment.objects.create(
            checkin=checkin, author=teacher, author_name=teacher.name, text="棒", created_at=NOW
        )
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "class_activity") == 5


def test_login_streak_day_eight_scores_two() -> None:
    days = [LAST_WEEK + timedelta(days=k) for k in range(7)]  # Mon–Sun last week: 7 days
    items = login_items([*days, WEEK, WEEK + timedelta(days=1)], week=WEEK)
    assert [(i.day, i.points) for i in items] == [(WEEK, 2), (WEEK + timedelta(days=1), 2)]


def test_login_streak_restarts_after_a_gap() -> None:
    days = [LAST_WEEK + timedelta(days=k) for k in range(6)] + [WEEK]  # gap on last Sunday
    items = login_items(days, week=WEEK)
    assert [i.points for i in items] == [1]


def test_login_points_from_recorded_days(world: Any) -> None:
    teacher = world.teachers[0]
    for k in range(9):  # Sat 14th … Sun 22nd: Monday 23rd is day 10
        stats_record_login(user=teacher, when=at(LAST_WEEK - timedelta(days=2)) + timedelta(days=k))
    stats_record_login(user=teacher, when=at(WEEK))
    stats_record_login(user=teacher, when=at(WEEK, 20))  # same day twice: one row
    stats_record_login(user=teacher, when=at(WEEK + timedelta(days=2)))  # after a gap: 1
    assert DailyActivity.objects.filter(user=teacher).count() == 11
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "login") == 2 + 1
    stats_compute_week(week=LAST_WEEK, now=NOW)
    # Sat, Sun before + Mon..Sun last week: days 3..9 of the streak → days 8, 9 score 2.
    assert points(teacher, "login", LAST_WEEK) == 5 * 1 + 2 * 2


def test_corrections_need_ten_students_on_one_assignment_and_cap_at_two(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    students = [s for s, _ in add_students(klass, 10)]
    for n in range(3):
        assignment = make_assignment(teacher, klass, at=at(WEEK), title=f"练习{n}")
        make_submissions(assignment, klass, students, at=at(WEEK), corrected_by=teacher)
    partial = make_assignment(teacher, klass, at=at(WEEK), title="只批了9份")
    make_submissions(partial, klass, students[:9], at=at(WEEK), corrected_by=teacher)
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "correction") == 10
    assert ScoreEvidence.objects.filter(score__row="correction", capped=True).count() == 1


def test_guided_test_scores_in_the_week_the_tenth_student_submits_within_30_days(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    students = [s for s, _ in add_students(klass, 10)]
    early = make_assignment(teacher, klass, at=at(LAST_WEEK), title="预习")
    make_submissions(early, klass, students[:5], at=at(LAST_WEEK))
    make_submissions(early, klass, students[5:], at=at(WEEK))
    late = make_assignment(teacher, klass, at=at(WEEK) - timedelta(days=31), title="过期")
    make_submissions(late, klass, students, at=at(WEEK))
    stats_compute_week(week=WEEK, now=NOW)
    stats_compute_week(week=LAST_WEEK, now=NOW)
    assert points(teacher, "guided_test") == 5
    assert points(teacher, "guided_test", LAST_WEEK) == 0
    evidence = ScoreEvidence.objects.get(score__row="guided_test")
    assert (evidence.source_id, evidence.figures) == (early.pk, {"completed": 10})


def test_class_setup_fifty_points_once_a_year(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    add_students(klass, 22)  # 3 + 22 = 25 this week
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "class_setup") == 50
    other = world.classes[1]
    from backend.schools.services import membership_set

    membership_set(school_class=other, user=teacher, role="teacher", is_head_teacher=False)
    add_students(world.classes[1], 22)  # not head teacher there: nothing for teacher 0
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "class_setup") == 50
    assert points(world.teachers[1], "class_setup") == 50


def test_profile_complete_scores_twenty_once_a_year(world: Any) -> None:
    from backend.schools.models import ClassMembership

    teacher = world.teachers[0]
    teacher.avatar = "avatars/t.png"
    teacher.save(update_fields=["avatar"])
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "profile") == 0  # no subject yet
    ClassMembership.objects.filter(user=teacher).update(subject="语文")
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "profile") == 20
    next_week = WEEK + timedelta(days=7)
    stats_compute_week(week=next_week, now=NOW + timedelta(days=7))
    assert points(teacher, "profile", next_week) == 0


def test_recompute_is_idempotent(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    families = guardians(add_students(klass, 10))
    make_notice(teacher, klass, families, at=at(WEEK))
    stats_record_login(user=teacher, when=NOW)
    first = stats_compute_week(week=WEEK, now=NOW)
    snapshot = sorted(TeacherWeekScore.objects.values_list("teacher_id", "row", "points"))
    evidence = ScoreEvidence.objects.count()
    second = stats_compute_week(week=WEEK, now=NOW)
    assert first == second == 2
    assert sorted(TeacherWeekScore.objects.values_list("teacher_id", "row", "points")) == snapshot
    assert ScoreEvidence.objects.count() == evidence == 2


def test_scheduled_task_scores_current_and_previous_week_from_issued_tokens(world: Any) -> None:
    from rest_framework_simplejwt.tokens import RefreshToken

    from backend.stats.tasks import stats_compute_recent

    teacher = world.teachers[0]
    RefreshToken.for_user(teacher)  # a login now (Wednesday)
    stats_compute_recent()
    assert DailyActivity.objects.filter(user=teacher, date=NOW.date()).exists()
    assert points(teacher, "login") == 1


def test_discussion_with_ten_family_posters_shares_the_notice_cap(world: Any) -> None:
    teacher, klass = world.teachers[0], world.classes[0]
    families = guardians(add_students(klass, 10))
    discussion = make_discussion(teacher, klass, families, at=at(WEEK))
    make_discussion(teacher, klass, families[:9], at=at(WEEK), title="只有9人")
    make_notice(teacher, klass, families, at=at(WEEK + timedelta(days=1)))
    make_notice(teacher, klass, families, at=at(WEEK + timedelta(days=2)), title="第三条")
    stats_compute_week(week=WEEK, now=NOW)
    assert points(teacher, "class_notice") == 10
    evidence = ScoreEvidence.objects.filter(score__row="class_notice").order_by("day", "id")
    assert [(e.source_type, e.points) for e in evidence] == [("discussion", 5), ("notice", 5), ("notice", 0)]
    assert (evidence[0].source_id, evidence[0].figures) == (discussion.pk, {"participants": 10})
