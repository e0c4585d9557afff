"""Submitting work: by the student or a guardian, versions, late marking, resubmission
rules, submission types, client_id retries, closed assignments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.homework.models import Submission
from backend.realtime.models import UserEvent

from .conftest import DUE, events, pushed

pytestmark = pytest.mark.django_db


@pytest.fixture
def hw(world, assign):
    return assign(world.teachers[0], [world.classes[0].pk])


def test_student_submits_and_the_class_teacher_is_told_without_a_push(
    world, hw, submit, upload, django_capture_on_commit_callbacks
):
    student = world.students[0][0]
    photo = upload(student, "image")
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(
            student, hw["id"], student, text="床前明月光", attachment_ids=[photo], client_id="a1"
        )

    assert response.status_code == 201
    body = response.json()
    assert body["student"] == {"id": student.pk, "name": student.name}
    assert body["class_id"] == world.classes[0].pk
    assert (body["version"], body["is_current"], body["late"], body["status"]) == (
        1,
        True,
        False,
        "submitted",
    )
    assert body["submitted_by"] == {"id": student.pk, "display_name": student.name}
    assert [(a["id"], a["kind"]) for a in body["attachments"]] == [(photo, "image")]
    assert body["attachments"][0]["url"].startswith("/api/v1/files/download/")
    assert body["feedback"] is None
    assert body["versions"] == [
        {
            "id": body["id"],
            "version": 1,
            "is_current": True,
            "submitted_at": body["submitted_at"],
            "late": False,
            "corrected": False,
        }
    ]
    assert events("homework.submitted") == {
        world.teachers[0].pk: [
            {
                "assignment_id": hw["id"],
                "submission_id": body["id"],
                "student": {"id": student.pk, "name": student.name},
                "class_id": world.classes[0].pk,
                "version": 1,
                "late": False,
            }
        ]
    }
    assert pushed() == []


def test_guardian_submits_for_their_young_child(world, hw, submit, client_for):
    child, mother = world.students[0][1], world.guardians[0][1]
    response = submit(mother, hw["id"], child, text="孩子口述，妈妈代写")
    assert response.status_code == 201
    assert response.json()["submitted_by"] == {"id": mother.pk, "display_name": f"{child.name}妈妈"}
    # The child sees it as their own work.
    mine = client_for(child).get(f"/api/v1/assignments/{hw['id']}/").json()["my_submissions"]
    assert mine[0]["status"] == "submitted"
    assert mine[0]["submission_id"] == response.json()["id"]


@pytest.mark.parametrize("who", ["other_guardian", "other_student", "teacher", "other_school_guardian"])
def test_nobody_submits_for_a_child_that_is_not_theirs(world, hw, submit, who):
    child = world.students[0][0]
    caller = {
        "other_guardian": world.guardians[0][1],
        "other_student": world.students[0][1],
        "teacher": world.teachers[0],
        "other_school_guardian": world.guardians[2][0],
    }[who]
    response = submit(caller, hw["id"], child)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Submission.objects.count() == 0
    assert UserEvent.objects.filter(type="homework.submitted").count() == 0


def test_client_id_makes_retries_safe(world, hw, submit):
    student = world.students[0][0]
    first = submit(student, hw["id"], student, client_id="same")
    again = submit(student, hw["id"], student, client_id="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    changed = submit(student, hw["id"], student, client_id="same", text="别的内容")
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "client_id_reused"
    assert Submission.objects.count() == 1
    assert UserEvent.objects.filter(type="homework.submitted").count() == 1


def test_work_after_the_due_time_is_late_but_accepted_until_closed(
    world, hw, submit, client_for, time_machine
):
    time_machine.move_to(DUE + timedelta(seconds=1), tick=False)
    early, late, _ = world.students[0]
    response = submit(early, hw["id"], early)
    assert response.status_code == 201
    assert response.json()["late"] is True
    assert events("homework.submitted")[world.teachers[0].pk][0]["late"] is True

    assert client_for(world.teachers[0]).post(f"/api/v1/assignments/{hw['id']}/close/").status_code == 200
    refused = submit(late, hw["id"], late)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "assignment_closed"
    assert not Submission.objects.filter(student=late).exists()


def test_exactly_at_the_due_time_is_on_time(world, hw, submit, time_machine):
    time_machine.move_to(DUE, tick=False)
    student = world.students[0][0]
    assert submit(student, hw["id"], student).json()["late"] is False


def test_resubmission_needs_permission(world, hw, submit):
    student = world.students[0][0]
    assert submit(student, hw["id"], student).status_code == 201
    again = submit(student, hw["id"], student, text="改好了")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "resubmit_not_allowed"
    assert Submission.objects.count() == 1


def test_resubmission_creates_a_new_version_and_keeps_the_old(world, assign, submit, client_for):
    hw = assign(world.teachers[0], [world.classes[0].pk], allow_resubmit=True)
    student = world.students[0][0]
    v1 = submit(student, hw["id"], student, text="第一版").json()
    v2 = submit(student, hw["id"], student, text="第二版").json()
    assert (v1["version"], v2["version"]) == (1, 2)
    assert [v["version"] for v in v2["versions"]] == [1, 2]
    assert [v["is_current"] for v in v2["versions"]] == [False, True]
    old = client_for(student).get(f"/api/v1/submissions/{v1['id']}/").json()
    assert (old["text"], old["is_current"]) == ("第一版", False)
    assert [(s.version, s.is_current) for s in Submission.objects.order_by("version")] == [
        (1, False),
        (2, True),
    ]
    # The teacher is told about each version.
    assert [e["version"] for e in events("homework.submitted")[world.teachers[0].pk]] == [1, 2]


def test_teacher_request_reopens_submission_for_that_student_only(world, hw, submit, client_for):
    asked, other = world.students[0][0], world.students[0][1]
    first = submit(asked, hw["id"], asked).json()
    submit(other, hw["id"], other)
    feedback = client_for(world.teachers[0]).post(
        f"/api/v1/submissions/{first['id']}/feedback/",
        {"comment": "字迹潦草，请重写", "request_resubmit": True},
        format="json",
    )
    assert feedback.status_code == 201
    assert feedback.json()["status"] == "resubmit_requested"
    mine = client_for(asked).get(f"/api/v1/assignments/{hw['id']}/").json()["my_submissions"][0]
    assert (mine["status"], mine["can_submit"]) == ("resubmit_requested", True)

    assert submit(other, hw["id"], other).json()["error"]["code"] == "resubmit_not_allowed"
    second = submit(asked, hw["id"], asked, text="重写了")
    assert second.status_code == 201
    assert (second.json()["version"], second.json()["status"]) == (2, "submitted")
    # The request was used up by the new version.
    assert submit(asked, hw["id"], asked, text="第三次").json()["error"]["code"] == "resubmit_not_allowed"


@pytest.mark.parametrize(
    ("types", "text", "kind", "code"),
    [
        (["photo"], "写了字", None, "submission_type_not_allowed"),
        (["text"], "", "image", "submission_type_not_allowed"),
        (["text", "photo"], "", "voice", "submission_type_not_allowed"),
        (["voice"], "", "video", "submission_type_not_allowed"),
        (["text"], "", None, "empty_submission"),
    ],
)
def test_content_must_match_the_submission_types(world, assign, submit, upload, types, text, kind, code):
    hw = assign(world.teachers[0], [world.classes[0].pk], submission_types=types)
    student = world.students[0][0]
    attachments = [upload(student, kind)] if kind else []
    response = submit(student, hw["id"], student, text=text, attachment_ids=attachments)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Submission.objects.count() == 0
    assert UserEvent.objects.filter(type="homework.submitted").count() == 0


@pytest.mark.parametrize("kind", ["image", "voice", "video", "file"])
def test_each_allowed_type_is_accepted(world, assign, submit, upload, kind):
    hw = assign(
        world.teachers[0], [world.classes[0].pk], submission_types=["photo", "voice", "video", "file"]
    )
    student = world.students[0][0]
    response = submit(student, hw["id"], student, text="", attachment_ids=[upload(student, kind)])
    assert response.status_code == 201
    assert response.json()["attachments"][0]["kind"] == kind


def test_someone_elses_upload_cannot_be_attached(world, hw, submit, upload):
    student, classmate = world.students[0][0], world.students[0][1]
    response = submit(student, hw["id"], student, attachment_ids=[upload(classmate, "image")])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_attachments"
    assert Submission.objects.count() == 0
