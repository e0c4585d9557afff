"""Feedback (批改): validation per grading scheme, history, who is told, who may give it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend.audit.models import AuditRecord
from backend.homework.models import Feedback, Submission
from backend.realtime.models import UserEvent

from .conftest import events, pushed

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_work(world, assign, submit):
    """An assignment with the given grading and one submission of students[0][0]."""

    def make(**grading):
        hw = assign(world.teachers[0], [world.classes[0].pk], **grading)
        student = world.students[0][0]
        return submit(student, hw["id"], student).json()

    return make


def give(client_for, teacher, submission_id, **body):
    return client_for(teacher).post(f"/api/v1/submissions/{submission_id}/feedback/", body, format="json")


def test_feedback_reaches_the_student_and_guardians(
    world, make_work, client_for, upload, django_capture_on_commit_callbacks
):
    work = make_work(grading="score", max_score=100)
    teacher = world.teachers[0]
    voice = upload(teacher, "voice")
    with django_capture_on_commit_callbacks(execute=True):
        response = give(
            client_for, teacher, work["id"], score="95.5", comment="背得很熟", voice_attachment_id=voice
        )

    assert response.status_code == 201
    feedback = response.json()["feedback"]
    assert feedback["score"] == 95.5
    assert (feedback["grade"], feedback["comment"]) == ("", "背得很熟")
    assert (feedback["voice"]["id"], feedback["voice"]["kind"]) == (voice, "voice")
    assert feedback["teacher"] == {"id": teacher.pk, "display_name": teacher.name}
    assert response.json()["status"] == "corrected"
    student, guardian = world.students[0][0], world.guardians[0][0]
    expected = {
        "assignment_id": work["assignment_id"],
        "submission_id": work["id"],
        "student_id": student.pk,
        "version": 1,
        "request_resubmit": False,
    }
    assert events("homework.feedback") == {student.pk: [expected], guardian.pk: [expected]}
    assert AuditRecord.objects.filter(action="homework.feedback_given").count() == 1
    assert pushed() == []  # nobody in `world` has the app


@pytest.mark.parametrize(
    ("grading", "body", "code"),
    [
        ({"grading": "score", "max_score": 100}, {"score": "100.5"}, "invalid_score"),
        ({"grading": "score", "max_score": 100}, {"score": "-1"}, "invalid_score"),
        ({"grading": "score", "max_score": 100}, {"score": "9.25"}, "invalid_score"),
        ({"grading": "score", "max_score": 100}, {"score": "很好"}, "invalid_score"),
        ({"grading": "score", "max_score": 100}, {"grade": "A"}, "invalid_grade"),
        ({"grading": "grade", "grade_scale": "A-E"}, {"grade": "F"}, "invalid_grade"),
        ({"grading": "grade", "grade_scale": "A-E"}, {"grade": "优"}, "invalid_grade"),
        ({"grading": "grade", "grade_scale": "优良中差"}, {"grade": "A"}, "invalid_grade"),
        ({"grading": "grade", "grade_scale": "A-E"}, {"score": "90"}, "invalid_score"),
        ({"grading": "none"}, {"score": "90"}, "invalid_score"),
        ({"grading": "none"}, {"grade": "A"}, "invalid_grade"),
        ({"grading": "none"}, {"comment": ""}, "empty_feedback"),
        ({"grading": "none"}, {"excellent": True, "request_resubmit": True}, "conflicting_feedback"),
    ],
)
def test_marks_must_fit_the_grading_scheme(world, make_work, client_for, grading, body, code):
    work = make_work(**grading)
    response = give(client_for, world.teachers[0], work["id"], **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Feedback.objects.count() == 0
    assert Submission.objects.get().feedback_at is None
    assert UserEvent.objects.filter(type="homework.feedback").count() == 0


@pytest.mark.parametrize(
    ("grading", "body", "shown"),
    [
        ({"grading": "score", "max_score": 100}, {"score": 0}, {"score": 0.0, "grade": ""}),
        ({"grading": "score", "max_score": 100}, {"score": 100}, {"score": 100.0, "grade": ""}),
        ({"grading": "score", "max_score": 5}, {"score": "4.5"}, {"score": 4.5, "grade": ""}),
        ({"grading": "grade", "grade_scale": "A-E"}, {"grade": "E"}, {"score": None, "grade": "E"}),
        ({"grading": "grade", "grade_scale": "优良中差"}, {"grade": "良"}, {"score": None, "grade": "良"}),
        ({"grading": "none"}, {"comment": "很认真"}, {"score": None, "grade": ""}),
    ],
)
def test_valid_marks_per_scheme(world, make_work, client_for, grading, body, shown):
    work = make_work(**grading)
    feedback = give(client_for, world.teachers[0], work["id"], **body).json()["feedback"]
    assert {"score": feedback["score"], "grade": feedback["grade"]} == shown


def test_feedback_again_updates_what_is_shown_and_keeps_history(world, make_work, client_for):
    work = make_work(grading="score", max_score=100)
    teacher = world.teachers[0]
    give(client_for, teacher, work["id"], score=80, comment="初评")
    second = give(client_for, teacher, work["id"], score=90, comment="复核后加分")
    assert (second.json()["feedback"]["score"], second.json()["feedback"]["comment"]) == (90.0, "复核后加分")
    rows = list(Feedback.objects.order_by("id").values_list("score", "is_current"))
    assert rows == [(Decimal("80.0"), False), (Decimal("90.0"), True)]
    # Each feedback is news for the student.
    assert len(events("homework.feedback")[world.students[0][0].pk]) == 2


def test_feedback_belongs_to_a_version(world, assign, submit, client_for):
    hw = assign(world.teachers[0], [world.classes[0].pk], allow_resubmit=True)
    student, teacher = world.students[0][0], world.teachers[0]
    v1 = submit(student, hw["id"], student, text="第一版").json()
    give(client_for, teacher, v1["id"], score=60)
    v2 = submit(student, hw["id"], student, text="第二版").json()
    assert (v2["status"], v2["feedback"]) == ("submitted", None)
    stale = give(client_for, teacher, v1["id"], score=70)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "submission_superseded"
    # The first version keeps its own feedback.
    old = client_for(student).get(f"/api/v1/submissions/{v1['id']}/").json()
    assert old["feedback"]["score"] == 60.0


@pytest.mark.parametrize(
    "who", ["other_class_teacher", "other_school_teacher", "guardian", "student", "school_admin"]
)
def test_only_a_teacher_of_the_class_gives_feedback(world, make_work, client_for, who):
    work = make_work(grading="score", max_score=100)
    caller = {
        "other_class_teacher": world.teachers[1],
        "other_school_teacher": world.teachers[2],
        "guardian": world.guardians[0][0],
        "student": world.students[0][0],
        "school_admin": world.school_admins[0],
    }[who]
    response = give(client_for, caller, work["id"], score=100, excellent=True)
    assert response.status_code == 404
    assert Feedback.objects.count() == 0
    assert UserEvent.objects.filter(type="homework.feedback").count() == 0


def test_voice_comment_must_be_a_voice_upload_of_the_teacher(world, make_work, client_for, upload):
    work = make_work(grading="none")
    teacher = world.teachers[0]
    photo = give(client_for, teacher, work["id"], voice_attachment_id=upload(teacher, "image"))
    assert photo.json()["error"]["code"] == "attachment_type_not_allowed"
    foreign = give(client_for, teacher, work["id"], voice_attachment_id=upload(world.teachers[1], "voice"))
    assert foreign.json()["error"]["code"] == "unknown_attachments"
    assert Feedback.objects.count() == 0


def test_a_closed_assignment_is_still_corrected_but_not_reopened(world, make_work, client_for):
    work = make_work(grading="score", max_score=10)
    teacher = world.teachers[0]
    client_for(teacher).post(f"/api/v1/assignments/{work['assignment_id']}/close/")
    reopen = give(client_for, teacher, work["id"], request_resubmit=True)
    assert reopen.status_code == 409
    assert reopen.json()["error"]["code"] == "assignment_closed"
    assert give(client_for, teacher, work["id"], score=9).status_code == 201
