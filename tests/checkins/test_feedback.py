"""Teacher feedback: comments and likes reach the student and guardians (event + push
outside quiet hours); only the class's teachers give feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from backend.checkins.models import CheckinComment, CheckinLike
from backend.checkins.services import checkin_submit
from backend.delivery.models import Delivery, PushState
from backend.delivery.rules import SHANGHAI
from backend.realtime.models import UserEvent

from .conftest import events_of, give_app, pushed

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkin(world: Any, campaign: Any) -> Any:
    student = world.students[0][0]
    checkin, _ = checkin_submit(
        user=student, campaign=campaign, student_id=student.pk, text="读书", client_id="1"
    )
    return checkin


def test_comment_reaches_student_and_guardians(
    world: Any, as_user: Any, checkin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    student, guardian, teacher = world.students[0][0], world.guardians[0][0], world.teachers[0]
    give_app(guardian, "tok-guardian")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(teacher).post(
            f"/api/v1/checkins/{checkin.pk}/comments/", {"text": "  读得很认真！ "}
        )

    assert response.status_code == 201, response.json()
    comment = response.json()
    assert comment["text"] == "读得很认真！"
    assert comment["author"] == {"id": teacher.pk, "display_name": teacher.name}
    expected = {
        "checkin_id": checkin.pk,
        "campaign_id": checkin.campaign_id,
        "student_id": student.pk,
        "date": "2026-03-02",
        "kind": "comment",
        "comment_id": comment["id"],
        "author": {"id": teacher.pk, "display_name": teacher.name},
    }
    assert events_of(student, "checkin.commented") == [expected]
    assert events_of(guardian, "checkin.commented") == [expected]
    assert events_of(world.guardians[0][1], "checkin.commented") == []
    assert pushed() == [("tok-guardian", f"{teacher.name}点评了打卡", "《每日阅读》：读得很认真！")]
    # The family reads it on the check-in.
    seen = as_user(guardian).get(f"/api/v1/checkins/{checkin.pk}/").json()
    assert [c["text"] for c in seen["comments"]] == ["读得很认真！"]


def test_comment_at_night_waits_for_the_morning(
    world: Any, as_user: Any, checkin: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    guardian = world.guardians[0][0]
    give_app(guardian, "tok-guardian")
    clock.move_to(datetime(2026, 3, 2, 22, 30, tzinfo=SHANGHAI))
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(world.teachers[0]).post(
            f"/api/v1/checkins/{checkin.pk}/comments/", {"text": "很好"}
        )

    assert response.status_code == 201
    assert pushed() == []
    held = Delivery.objects.get(recipient=guardian, dispatch__event_type="checkin.commented")
    assert held.push_state == PushState.HELD
    assert events_of(guardian, "checkin.commented")  # the in-app event is not held


@pytest.mark.parametrize("who", ["student", "guardian", "school_admin"])
def test_only_teachers_give_feedback(world: Any, as_user: Any, checkin: Any, who: str) -> None:
    user = {
        "student": world.students[0][0],
        "guardian": world.guardians[0][0],
        "school_admin": world.school_admins[0],
    }[who]
    client = as_user(user)
    for response in (
        client.post(f"/api/v1/checkins/{checkin.pk}/comments/", {"text": "自夸"}),
        client.post(f"/api/v1/checkins/{checkin.pk}/likes/"),
        client.delete(f"/api/v1/checkins/{checkin.pk}/likes/"),
    ):
        assert (response.status_code, response.json()["error"]["code"]) == (403, "teachers_only")
    assert not CheckinComment.objects.exists()
    assert not CheckinLike.objects.exists()
    assert not UserEvent.objects.filter(type="checkin.commented").exists()


def test_empty_comment_is_refused(world: Any, as_user: Any, checkin: Any) -> None:
    response = as_user(world.teachers[0]).post(f"/api/v1/checkins/{checkin.pk}/comments/", {"text": "  "})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "comment_required")
    assert not CheckinComment.objects.exists()
    assert not UserEvent.objects.filter(type="checkin.commented").exists()


def test_like_is_idempotent_and_tells_the_family_once(world: Any, as_user: Any, checkin: Any) -> None:
    teacher, student = world.teachers[0], world.students[0][0]
    client = as_user(teacher)
    url = f"/api/v1/checkins/{checkin.pk}/likes/"

    first, again = client.post(url), client.post(url)
    assert (first.status_code, first.json()) == (201, {"liked": True, "likes": 1})
    assert (again.status_code, again.json()) == (200, {"liked": True, "likes": 1})
    assert client.get(f"/api/v1/checkins/{checkin.pk}/").json()["liked_by_me"] is True

    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 204
    assert as_user(student).get(f"/api/v1/checkins/{checkin.pk}/").json()["likes"] == 0
    relike = client.post(url)
    assert (relike.status_code, relike.json()["likes"]) == (201, 1)

    likes = events_of(student, "checkin.commented")
    assert [e["kind"] for e in likes] == ["like"]
    assert likes[0]["comment_id"] is None


def test_comment_with_idempotency_key_posts_once(world: Any, as_user: Any, checkin: Any) -> None:
    client = as_user(world.teachers[0])
    url = f"/api/v1/checkins/{checkin.pk}/comments/"
    first = client.post(url, {"text": "好"}, HTTP_IDEMPOTENCY_KEY="c1")
    again = client.post(url, {"text": "好"}, HTTP_IDEMPOTENCY_KEY="c1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert CheckinComment.objects.count() == 1
    assert len(events_of(world.students[0][0], "checkin.commented")) == 1


def test_event_types_are_registered_with_schemas() -> None:
    from backend.checkins.events import CHECKIN_COMMENTED, CHECKIN_CREATED, CHECKIN_REMINDER
    from backend.realtime.registry import registered_events

    events = registered_events()
    for name in (CHECKIN_CREATED, CHECKIN_COMMENTED, CHECKIN_REMINDER):
        assert events[name].description
        assert events[name].audience
        assert events[name].schema["additionalProperties"] is False
