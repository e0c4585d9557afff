"""Assigning homework over the API: who is told on which channel, bad input, edits,
closing, Idempotency-Key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.audit.models import AuditRecord
from backend.homework.models import Assignment, AssignmentClass
from backend.realtime.models import UserEvent
from backend.schools.services import membership_set
from backend.sms.outbox import sent_messages

from .conftest import DUE, NOW, events, ids, payload, pushed

pytestmark = pytest.mark.django_db

URL = "/api/v1/assignments/"


def test_assigning_tells_students_and_guardians_by_event_and_push_never_sms(
    demo, client_for, django_capture_on_commit_callbacks
):
    from backend.schools.models import SchoolClass

    class2 = SchoolClass.objects.get(name="三年级(2)班")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(demo.head2).post(URL, payload([class2.pk]), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "背诵《静夜思》"
    assert body["classes"] == [{"id": class2.pk, "name": "三年级(2)班"}]
    assert body["author"] == {"id": demo.head2.pk, "display_name": "陈老师"}
    assert body["due_at"] == "2026-11-24T10:00:00+08:00"
    assert body["status"] == "open"
    assert body["is_author"] is True
    assert body["stats"] == {"students": 30, "submitted": 0, "missing": 30, "late": 0, "uncorrected": 0}
    assert body["my_submissions"] == []

    students = {demo.user(f"S202602{i:02d}") for i in range(1, 31)}
    guardians = {demo.user(f"139000000{i:02d}") for i in range(1, 31)}
    log = events("homework.assigned")
    assert set(log) == ids(list(students | guardians))
    assert log[demo.user("13900000001").pk] == [
        {
            "assignment_id": body["id"],
            "title": "背诵《静夜思》",
            "subject": "语文",
            "due_at": "2026-11-24T10:00:00+08:00",
            "class_ids": [class2.pk],
            "teacher": {"id": demo.head2.pk, "display_name": "陈老师"},
        }
    ]
    # Guardians 01–20 have the app: a push each. Nobody gets an SMS for homework.
    assert sorted(m.token for m in pushed()) == [f"demo-fcm-token-{i:02d}" for i in range(1, 21)]
    assert pushed()[0].title == "语文作业"
    assert sent_messages() == []
    assert AuditRecord.objects.filter(
        action="homework.assignment_created", object_id=str(body["id"])
    ).exists()


def test_idempotency_key_replays_the_first_result(world, client_for):
    client = client_for(world.teachers[0])
    body = payload([world.classes[0].pk])
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Assignment.objects.count() == 1
    assert UserEvent.objects.filter(type="homework.assigned").count() == 6  # 3 students + 3 guardians


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"due_at": (NOW - timedelta(minutes=1)).isoformat()}, "due_in_past"),
        ({"due_at": NOW.isoformat()}, "due_in_past"),
        ({"grading": "score", "max_score": None}, "invalid_max_score"),
        ({"grading": "score", "max_score": 0}, "invalid_max_score"),
        ({"grading": "score", "max_score": 1001}, "invalid_max_score"),
        ({"grading": "grade", "grade_scale": ""}, "invalid_grade_scale"),
        ({"grading": "grade", "grade_scale": "1-10"}, "invalid_grade_scale"),
        ({"submission_types": []}, "invalid"),
        ({"submission_types": ["text", "essay"]}, "invalid"),
        ({"grading": "stars"}, "invalid"),
        ({"attachment_ids": [999999]}, "unknown_attachments"),
        ({"title": ""}, "invalid"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(world, client_for, overrides, code):
    response = client_for(world.teachers[0]).post(
        URL, payload([world.classes[0].pk], **overrides), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Assignment.objects.count() == 0
    assert AssignmentClass.objects.count() == 0
    assert UserEvent.objects.count() == 0


@pytest.mark.parametrize("who", ["other_teacher", "guardian", "student", "school_admin"])
def test_only_a_teacher_of_every_class_may_assign_to_it(world, client_for, who):
    caller = {
        "other_teacher": world.teachers[1],
        "guardian": world.guardians[0][0],
        "student": world.students[0][0],
        "school_admin": world.school_admins[0],
    }[who]
    response = client_for(caller).post(URL, payload([world.classes[0].pk]), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_ids"
    assert response.json()["error"]["fields"] == {"class_ids": [f"无效的编号：{world.classes[0].pk}"]}
    assert Assignment.objects.count() == 0
    assert UserEvent.objects.count() == 0


def test_classes_of_two_schools_cannot_share_an_assignment(world, client_for):
    teacher = world.teachers[0]
    membership_set(school_class=world.classes[2], user=teacher, role="teacher")
    response = client_for(teacher).post(
        URL, payload([world.classes[0].pk, world.classes[2].pk]), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "classes_in_different_schools"
    assert Assignment.objects.count() == 0


def test_grade_scheme_is_stored_with_its_scale(world, assign):
    body = assign(
        world.teachers[0], [world.classes[0].pk], grading="grade", grade_scale="优良中差", max_score=50
    )
    assert (body["grading"], body["grade_scale"], body["max_score"]) == ("grade", "优良中差", None)
    assert body["grades"] == ["优", "良", "中", "差"]


def test_teacher_edits_before_the_due_time(world, assign, client_for, upload):
    teacher = world.teachers[0]
    assignment = assign(teacher, [world.classes[0].pk])
    sheet = upload(teacher, "file")
    response = client_for(teacher).patch(
        f"{URL}{assignment['id']}/",
        {"title": "背诵《春晓》", "due_at": (DUE + timedelta(days=1)).isoformat(), "attachment_ids": [sheet]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "背诵《春晓》"
    assert body["due_at"] == "2026-11-25T10:00:00+08:00"
    assert [a["id"] for a in body["attachments"]] == [sheet]
    assert body["attachments"][0]["kind"] == "file"
    # No second announcement for an edit.
    assert UserEvent.objects.filter(type="homework.assigned").count() == 6


def test_edits_are_refused_after_the_due_time_or_for_fixed_fields(world, assign, client_for, time_machine):
    teacher = world.teachers[0]
    assignment = assign(teacher, [world.classes[0].pk])
    url = f"{URL}{assignment['id']}/"
    client = client_for(teacher)

    fixed = client.patch(url, {"grading": "none", "title": "新标题"}, format="json")
    assert fixed.status_code == 400
    assert fixed.json()["error"]["code"] == "field_not_editable"
    past = client.patch(url, {"due_at": (NOW - timedelta(hours=1)).isoformat()}, format="json")
    assert past.json()["error"]["code"] == "due_in_past"

    time_machine.move_to(DUE + timedelta(minutes=1), tick=False)
    late = client_for(teacher).patch(url, {"title": "新标题"}, format="json")  # a fresh token
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "assignment_past_due"
    assert Assignment.objects.get().title == "背诵《静夜思》"


def test_only_the_author_edits_or_closes(world, assign, client_for):
    head = world.teachers[0]
    colleague = world.extra["colleague"] = _colleague(world)
    assignment = assign(head, [world.classes[0].pk])
    client = client_for(colleague)
    # The colleague teaches the class and sees the assignment, but it is not theirs to change.
    assert client.get(f"{URL}{assignment['id']}/").status_code == 200
    assert client.patch(f"{URL}{assignment['id']}/", {"title": "x"}, format="json").status_code == 404
    assert client.post(f"{URL}{assignment['id']}/close/").status_code == 404
    assert Assignment.objects.get().closed_at is None


def _colleague(world):
    from backend.accounts.services import user_ensure

    colleague, _ = user_ensure(name="数学老师", phone="13311112222", password="pw-123456")
    membership_set(school_class=world.classes[0], user=colleague, role="teacher", subject="数学")
    return colleague


def test_close_is_idempotent_and_stops_edits(world, assign, client_for):
    teacher = world.teachers[0]
    assignment = assign(teacher, [world.classes[0].pk])
    client = client_for(teacher)
    first = client.post(f"{URL}{assignment['id']}/close/")
    assert first.status_code == 200
    assert first.json()["status"] == "closed"
    closed_at = first.json()["closed_at"]
    assert client.post(f"{URL}{assignment['id']}/close/").json()["closed_at"] == closed_at
    edit = client.patch(f"{URL}{assignment['id']}/", {"title": "x"}, format="json")
    assert edit.status_code == 409
    assert edit.json()["error"]["code"] == "assignment_closed"
    assert AuditRecord.objects.filter(action="homework.assignment_closed").count() == 1
