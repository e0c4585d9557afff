"""What a teacher sees: stats, the roster by state, reminders to the missing; and the
query counts of those pages, pinned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from backend.delivery.models import Delivery
from backend.schools.services import membership_set

from .conftest import DUE, events, pushed

pytestmark = pytest.mark.django_db


@pytest.fixture
def progress(world, assign, submit, client_for, time_machine):
    """Class 0 (3 students): s0 on time and corrected, s1 late and uncorrected, s2 missing."""
    teacher = world.teachers[0]
    hw = assign(teacher, [world.classes[0].pk])
    s0, s1, _ = world.students[0]
    work = submit(s0, hw["id"], s0).json()
    client_for(teacher).post(f"/api/v1/submissions/{work['id']}/feedback/", {"score": 90}, format="json")
    time_machine.move_to(DUE + timedelta(hours=1), tick=False)
    submit(s1, hw["id"], s1)
    return hw


def test_detail_has_stats_for_the_teacher(world, progress, client_for):
    body = client_for(world.teachers[0]).get(f"/api/v1/assignments/{progress['id']}/").json()
    assert body["stats"] == {"students": 3, "submitted": 2, "missing": 1, "late": 1, "uncorrected": 1}
    assert body["status"] == "past_due"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (None, [(0, "corrected"), (1, "submitted"), (2, "missing")]),
        ("submitted", [(0, "corrected"), (1, "submitted")]),
        ("missing", [(2, "missing")]),
        ("late", [(1, "submitted")]),
        ("uncorrected", [(1, "submitted")]),
    ],
)
def test_roster_by_state(world, progress, client_for, state, expected):
    query = f"?state={state}" if state else ""
    response = client_for(world.teachers[0]).get(f"/api/v1/assignments/{progress['id']}/submissions/{query}")
    assert response.status_code == 200
    rows = response.json()["results"]
    students = world.students[0]
    assert [(r["student"]["id"], r["status"]) for r in rows] == [(students[i].pk, s) for i, s in expected]
    for row in rows:
        assert row["class_id"] == world.classes[0].pk
        assert (row["submission"] is None) == (row["status"] == "missing")


def test_unknown_state_is_refused(world, progress, client_for):
    response = client_for(world.teachers[0]).get(
        f"/api/v1/assignments/{progress['id']}/submissions/?state=all"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_state"


def test_reminders_push_to_missing_students_and_guardians(
    demo, client_for, assign, submit, django_capture_on_commit_callbacks
):
    from backend.schools.models import SchoolClass

    class2 = SchoolClass.objects.get(name="三年级(2)班")
    hw = assign(demo.head2, [class2.pk])
    for i in range(1, 29):  # all but students 29 and 30 submit
        student = demo.user(f"S202602{i:02d}")
        assert submit(student, hw["id"], student).status_code == 201
    # Guardian 05 has the app; 29 and 30 never logged in (SMS only, and homework sends no SMS).
    from backend.accounts.services import device_register

    device_register(user=demo.user("13900000029"), platform="android", token="late-family-token")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(demo.head2).post(f"/api/v1/assignments/{hw['id']}/reminders/")

    assert response.status_code == 200
    missing = {demo.user(login) for login in ("S20260229", "S20260230", "13900000029", "13900000030")}
    assert response.json() == {"reminded": 4}
    reminded = Delivery.objects.filter(dispatch__source_id=hw["id"], reminders=1)
    assert set(reminded.values_list("recipient_id", flat=True)) == {u.pk for u in missing}
    # Guardian 29 registered a device after the assignment went out: the reminder is a push.
    assert [(m.token, m.title) for m in pushed()] == [("late-family-token", "提醒：语文作业")]
    from backend.sms.outbox import sent_messages

    assert sent_messages() == []


def test_reminders_tell_newcomers_about_the_assignment(world, assign, client_for, make_student):
    hw = assign(world.teachers[0], [world.classes[0].pk])
    newcomer = make_student(world.classes[0])
    response = client_for(world.teachers[0]).post(f"/api/v1/assignments/{hw['id']}/reminders/")
    # 3 students and 3 guardians told before (a reminder), the newcomer and their guardian now.
    assert response.json() == {"reminded": 8}
    told = events("homework.assigned")
    assert newcomer.pk in told
    assert len(told) == 8


def test_nothing_to_remind_after_everyone_submitted_or_after_close(world, assign, submit, client_for):
    hw = assign(world.teachers[0], [world.classes[0].pk])
    for student in world.students[0]:
        submit(student, hw["id"], student)
    client = client_for(world.teachers[0])
    assert client.post(f"/api/v1/assignments/{hw['id']}/reminders/").json() == {"reminded": 0}
    client.post(f"/api/v1/assignments/{hw['id']}/close/")
    closed = client.post(f"/api/v1/assignments/{hw['id']}/reminders/")
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "assignment_closed"


def test_a_teacher_of_one_class_sees_and_reminds_only_that_class(world, assign, submit, client_for):
    from backend.accounts.services import user_ensure

    head = world.teachers[0]
    membership_set(school_class=world.classes[1], user=head, role="teacher")
    hw = assign(head, [world.classes[0].pk, world.classes[1].pk])
    other_head = world.teachers[1]  # teaches class 1 only
    colleague, _ = user_ensure(name="美术老师", phone="13322223333", password="pw-123456")
    membership_set(school_class=world.classes[0], user=colleague, role="teacher")

    assert client_for(head).get(f"/api/v1/assignments/{hw['id']}/").json()["stats"]["students"] == 6
    assert client_for(other_head).get(f"/api/v1/assignments/{hw['id']}/").json()["stats"]["students"] == 3
    rows = client_for(other_head).get(f"/api/v1/assignments/{hw['id']}/submissions/").json()["results"]
    assert {r["student"]["id"] for r in rows} == {s.pk for s in world.students[1]}
    reminded = client_for(other_head).post(f"/api/v1/assignments/{hw['id']}/reminders/").json()
    assert reminded == {"reminded": 6}  # class 1's 3 students and 3 guardians
    assert client_for(colleague).get(f"/api/v1/assignments/{hw['id']}/").json()["stats"]["students"] == 3


# --- Query counts -----------------------------------------------------------------


@pytest.fixture
def make_student(world):
    from itertools import count

    from backend.accounts.services import user_ensure
    from backend.schools.services import guardianship_link

    numbers = count(1)

    def make(school_class, *, with_guardian: bool = True):
        n = next(numbers)
        student, _ = user_ensure(name=f"插班生{n}", student_number=f"N{n:06d}", password="pw-123456")
        membership_set(school_class=school_class, user=student, role="student")
        if with_guardian:
            guardian, _ = user_ensure(name=f"插班家长{n}", phone=f"134{n:08d}", password="pw-123456")
            guardianship_link(guardian=guardian, student=student, relation="父亲")
        return student

    return make


def _grow(world, assign, submit, client_for, make_student, n):
    """An assignment in class 0 with n more students; the first of the class and every
    second newcomer submit."""
    students = [make_student(world.classes[0]) for _ in range(n)]
    hw = assign(world.teachers[0], [world.classes[0].pk])
    for student in [world.students[0][0], *students[::2]]:
        submit(student, hw["id"], student)
    return hw


@pytest.mark.parametrize("extra", [2, 8])
def test_roster_query_count_is_constant(
    world, assign, submit, client_for, make_student, django_assert_num_queries, extra
):
    hw = _grow(world, assign, submit, client_for, make_student, extra)
    client = client_for(world.teachers[0])
    # user, viewer (3), assignment + class links, roster page, current work + its feedback.
    with django_assert_num_queries(9):
        response = client.get(f"/api/v1/assignments/{hw['id']}/submissions/")
    assert len(response.json()["results"]) == 3 + extra


@pytest.mark.parametrize("extra", [2, 8])
def test_reminder_query_count_is_constant(
    world, assign, submit, client_for, make_student, django_assert_num_queries, extra
):
    hw = _grow(world, assign, submit, client_for, make_student, extra)
    client = client_for(world.teachers[0])
    with django_assert_num_queries(13):
        response = client.post(f"/api/v1/assignments/{hw['id']}/reminders/")
    # students without work, and one guardian each
    assert response.json()["reminded"] == 2 * (2 + extra // 2)


@pytest.mark.parametrize("extra", [2, 8])
def test_assigning_query_count_is_constant(world, client_for, make_student, django_assert_num_queries, extra):
    from .conftest import payload

    for _ in range(extra):
        make_student(world.classes[0])
    client = client_for(world.teachers[0])
    # The fan-out's event log: one statement per chunk on PostgreSQL, two on SQLite; the
    # dispatch is inserted in one statement (no read, savepoint, release around it).
    with django_assert_num_queries(19 if connection.vendor == "postgresql" else 20):
        response = client.post("/api/v1/assignments/", payload([world.classes[0].pk]), format="json")
    assert response.status_code == 201
