"""Attachments are claimed by their uploader only: someone who learns another user's file
id (sequential) and sends it in `attachment_ids` (notices, assignments, chat messages,
homework submissions, check-ins, feedback) is refused, and nothing anywhere points to the
file; the same request with their own upload succeeds. Signed download URLs cannot be
re-pointed at another file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
AMR = b"#!AMR\n" + b"\x00" * 60


def _upload(client: Any, data: bytes = JPEG, content_type: str = "image/jpeg") -> int:
    name = "a.jpg" if content_type == "image/jpeg" else "a.amr"
    response = client.post(
        "/api/v1/files/",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def _consent(guardian: Any, student: Any) -> None:
    from backend.privacy.policy import POLICY_VERSION
    from backend.privacy.services import consent_grant

    consent_grant(guardian=guardian, student_id=student.pk, scope="basic", policy_version=POLICY_VERSION)


def _pointing_at(file_id: int) -> list[str]:
    """Every stored object that refers to the file."""
    from backend.checkins.models import Checkin
    from backend.homework.models import Assignment, Feedback, Submission
    from backend.messaging.models import Message
    from backend.notices.models import Notice

    found = []
    for model in (Notice, Assignment, Submission, Message, Checkin):
        for pk, ids in model.objects.values_list("pk", "attachment_ids"):
            if file_id in (ids or []):
                found.append(f"{model.__name__}#{pk}")
    found += [
        f"Feedback#{pk}"
        for pk in Feedback.objects.filter(voice_attachment_id=file_id).values_list("pk", flat=True)
    ]
    return found


@pytest.fixture
def scene(world: Any, client_for: Callable[[Any], Any]) -> dict[str, Any]:
    """The thief side: class 1's teacher and a guardian there, with their own assignment,
    check-in campaign, discussion and a submission to give feedback on."""
    from backend.checkins.services import campaign_create

    w = world
    teacher, guardian, student = w.teachers[1], w.guardians[1][0], w.students[1][0]
    _consent(guardian, student)
    t, g = client_for(teacher), client_for(guardian)
    assignment = t.post(
        "/api/v1/assignments/",
        {"class_ids": [w.classes[1].pk], "subject": "美术", "title": "画春天", "instructions": "拍照上传。",
         "due_at": (timezone.now() + timedelta(days=1)).isoformat(), "submission_types": ["text", "photo"],
         "grading": "score", "max_score": 100, "allow_resubmit": True},
        format="json",
    )  # fmt: skip
    assert assignment.status_code == 201, assignment.json()
    today = timezone.localdate()
    campaign = campaign_create(
        teacher=teacher,
        class_ids=[w.classes[1].pk],
        title="每日运动",
        description="拍照打卡",
        start_date=today,
        end_date=today + timedelta(days=7),
        content_types=["photo"],
        makeup_days=0,
    )
    discussion = t.post(
        "/api/v1/conversations/",
        {"kind": "discussion", "class_id": w.classes[1].pk, "title": "画展"},
        format="json",
    )
    assert discussion.status_code == 201, discussion.json()
    submission = g.post(
        f"/api/v1/assignments/{assignment.json()['id']}/submissions/",
        {"student_id": student.pk, "text": "画好了", "client_id": "s-0"},
        format="json",
    )
    assert submission.status_code == 201, submission.json()
    return {
        "teacher": t,
        "guardian": g,
        "class": w.classes[1].pk,
        "student": student.pk,
        "assignment": assignment.json()["id"],
        "campaign": campaign.pk,
        "discussion": discussion.json()["id"],
        "submission": submission.json()["id"],
        # The victim: class 0's teacher, whose uploads the thief names by id.
        "victim": client_for(w.teachers[0]),
    }


def _attempts(
    s: dict[str, Any], image: int, voice: int, n: int
) -> dict[str, tuple[Any, str, dict[str, Any]]]:
    """{endpoint: (client, method+url, body)} each attaching `image` (or `voice`)."""
    return {
        "notice": (s["teacher"], "post /api/v1/notices/",
                   {"title": f"画展{n}", "body": "见附件。", "audience": "guardians", "class_ids": [s["class"]],
                    "attachment_ids": [image]}),
        "assignment": (s["teacher"], "post /api/v1/assignments/",
                       {"class_ids": [s["class"]], "subject": "美术", "title": f"临摹{n}", "instructions": "见附件。",
                        "due_at": (timezone.now() + timedelta(days=2)).isoformat(), "submission_types": ["text"],
                        "grading": "none", "attachment_ids": [image]}),
        "assignment_edit": (s["teacher"], f"patch /api/v1/assignments/{s['assignment']}/",
                            {"attachment_ids": [image]}),
        "message": (s["guardian"], f"post /api/v1/conversations/{s['discussion']}/messages/",
                    {"body": "", "client_id": f"m-{n}", "attachment_ids": [image]}),
        "feedback": (s["teacher"], f"post /api/v1/submissions/{s['submission']}/feedback/",
                     {"comment": "很好", "voice_attachment_id": voice}),
        "submission": (s["guardian"], f"post /api/v1/assignments/{s['assignment']}/submissions/",
                       {"student_id": s["student"], "client_id": f"s-{n + 1}", "attachment_ids": [image]}),
        "checkin": (s["guardian"], f"post /api/v1/checkin-campaigns/{s['campaign']}/checkins/",
                    {"student_id": s["student"], "client_id": f"c-{n}", "attachment_ids": [image]}),
    }  # fmt: skip


def test_a_foreign_file_id_is_refused_everywhere_and_attached_nowhere(
    scene: dict[str, Any], client_for: Callable[[Any], Any]
) -> None:
    from django.apps import apps

    image, voice = _upload(scene["victim"]), _upload(scene["victim"], AMR, "audio/amr")
    counts = {m._meta.label: m.objects.count() for m in apps.get_models()}
    refused = {}
    for name, (client, target, body) in _attempts(scene, image, voice, 1).items():
        method, url = target.split(" ")
        response = getattr(client, method)(url, body, format="json")
        refused[name] = (response.status_code, response.json()["error"]["code"] if response.content else None)

    expected = dict.fromkeys(refused, (400, "unknown_attachments"))
    assert refused == expected
    assert _pointing_at(image) == []
    assert _pointing_at(voice) == []
    changed = {label for label, n in counts.items() if apps.get_model(label).objects.count() != n}
    assert changed == set()


def test_the_same_requests_with_their_own_files_succeed(scene: dict[str, Any]) -> None:
    """The refusals above are about ownership, not about the requests."""
    image = _upload(scene["guardian"])
    teacher_image, voice = _upload(scene["teacher"]), _upload(scene["teacher"], AMR, "audio/amr")
    statuses = {}
    for name, (client, target, body) in _attempts(scene, image, voice, 2).items():
        if client is scene["teacher"] and "attachment_ids" in body:
            body = {**body, "attachment_ids": [teacher_image]}
        method, url = target.split(" ")
        response = getattr(client, method)(url, body, format="json")
        statuses[name] = response.status_code

    assert statuses == {
        "notice": 201,
        "assignment": 201,
        "assignment_edit": 200,
        "message": 201,
        "submission": 201,
        "checkin": 201,
        "feedback": 201,
    }
    assert _pointing_at(image)
    assert _pointing_at(teacher_image)
    assert _pointing_at(voice)


def test_a_download_url_cannot_be_repointed_at_another_file(
    world: Any, client_for: Callable[[Any], Any], api: Any
) -> None:
    from backend.files.selectors import download_token

    mine = _upload(client_for(world.guardians[0][0]))
    theirs = _upload(client_for(world.guardians[2][0]), JPEG + b"other")
    token = download_token(mine)
    forged = token.replace(str(mine), str(theirs), 1)

    assert api.get(f"/api/v1/files/download/{token}/").status_code == 200
    assert forged != token
    assert api.get(f"/api/v1/files/download/{forged}/").status_code == 404
