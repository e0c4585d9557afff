"""Nobody writes their own role, school or scope (issue #12 item 3): every write endpoint
that takes a user-ish body, sent with extra fields naming roles, staff flags, schools,
classes, other users and quotas, either refuses (4xx) or ignores them, and the rows that
carry authority (staff flags, groups, class memberships, guardianships, org admins, SMS
account ownership, conversation roles) are unchanged. A parent cannot make themselves a
teacher of a class or a guardian of another child through any endpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.delivery.rules import SHANGHAI

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday morning: office hours


@pytest.fixture(autouse=True)
def _clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def _extras(w: Any) -> dict[str, Any]:
    """Fields no endpoint should honour from a body, aimed at someone else's scope."""
    other_school, other_class, other_teacher = w.schools[1], w.classes[2], w.teachers[2]
    return {
        "role": "school_admin",
        "roles": ["teacher", "school_admin", "bureau_admin"],
        "is_staff": True,
        "is_superuser": True,
        "is_head_teacher": True,
        "school": other_school.pk,
        "school_id": other_school.pk,
        "org": w.counties[1].pk,
        "org_id": w.counties[1].pk,
        "class": other_class.pk,
        "author": other_teacher.pk,
        "author_id": other_teacher.pk,
        "owner": other_teacher.pk,
        "sender": other_teacher.pk,
        "created_by": other_teacher.pk,
        "guardian": other_teacher.pk,
        "quota": 1_000_000,
        "balance": 1_000_000,
        "groups": [1],
    }


def _authority() -> dict[str, list[Any]]:
    from backend.accounts.models import User
    from backend.schools.models import ClassMembership, Guardianship, OrgAdmin
    from backend.sms.models import SmsAccount

    return {
        "users": list(
            User.objects.order_by("pk").values_list("pk", "is_staff", "is_superuser", "is_active", "phone")
        ),
        "groups": list(User.groups.through.objects.order_by("pk").values_list("user_id", "group_id")),
        "permissions": list(User.user_permissions.through.objects.order_by("pk").values_list()),
        "memberships": list(ClassMembership.objects.order_by("pk").values()),
        "guardianships": list(Guardianship.objects.order_by("pk").values()),
        "org_admins": list(OrgAdmin.objects.order_by("pk").values()),
        "sms_accounts": list(
            SmsAccount.objects.order_by("pk").values_list("pk", "org_id", "owner_id", "parent_id")
        ),
    }


def _consent(guardian: Any, student: Any) -> None:
    from backend.privacy.policy import POLICY_VERSION
    from backend.privacy.services import consent_grant

    consent_grant(guardian=guardian, student_id=student.pk, scope="basic", policy_version=POLICY_VERSION)


@pytest.fixture
def scene(world: Any, client_for: Callable[[Any], Any]) -> dict[str, Any]:
    w = world
    _consent(w.guardians[0][0], w.students[0][0])
    teacher = client_for(w.teachers[0])
    discussion = teacher.post(
        "/api/v1/conversations/",
        {"kind": "discussion", "class_id": w.classes[0].pk, "title": "班务"},
        format="json",
    )
    assert discussion.status_code == 201, discussion.json()
    assignment = teacher.post(
        "/api/v1/assignments/",
        {"class_ids": [w.classes[0].pk], "subject": "数学", "title": "口算", "instructions": "做完第一页。",
         "due_at": (timezone.now() + timedelta(days=1)).isoformat(), "submission_types": ["text"],
         "grading": "none"},
        format="json",
    )  # fmt: skip
    assert assignment.status_code == 201, assignment.json()
    return {"discussion": discussion.json()["id"], "assignment": assignment.json()["id"]}


def _writes(w: Any, s: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(actor, method, url, the legitimate body)."""
    from backend.privacy.policy import POLICY_VERSION

    student = w.students[0][0]
    return [
        ("guardian", "patch", "/api/v1/me/notification-settings/", {"digest": "daily"}),
        ("teacher", "put", "/api/v1/me/office-hours/", {"weekdays": [1, 2, 3], "start": "08:00", "end": "17:00"}),
        ("guardian", "post", "/api/v1/devices/", {"platform": "android", "token": "role-writes-token"}),
        ("teacher", "post", "/api/v1/notices/",
         {"title": "通知", "body": "内容", "audience": "guardians", "class_ids": [w.classes[0].pk]}),
        ("teacher", "post", "/api/v1/conversations/",
         {"kind": "discussion", "class_id": w.classes[0].pk, "title": "新话题"}),
        ("guardian", "post", f"/api/v1/conversations/{s['discussion']}/messages/",
         {"body": "收到", "client_id": "rw-1"}),
        ("guardian", "put", f"/api/v1/conversations/{s['discussion']}/notifications/", {"muted": True}),
        ("guardian", "post", "/api/v1/privacy/consents/",
         {"student_id": student.pk, "policy_version": POLICY_VERSION}),
        ("guardian", "post", f"/api/v1/assignments/{s['assignment']}/submissions/",
         {"student_id": student.pk, "text": "做完了", "client_id": "rw-s1"}),
        ("teacher", "patch", f"/api/v1/assignments/{s['assignment']}/", {"title": "口算（改）"}),
    ]  # fmt: skip


def test_extra_fields_never_change_role_school_or_scope(
    world: Any, scene: dict[str, Any], client_for: Callable[[Any], Any]
) -> None:
    from backend.accounts.models import Device
    from backend.messaging.models import Member, Message
    from backend.notices.models import Notice

    w = world
    actors = {"guardian": w.guardians[0][0], "teacher": w.teachers[0]}
    clients = {name: client_for(user) for name, user in actors.items()}
    me_before = {name: client.get("/api/v1/me/").json() for name, client in clients.items()}
    before = _authority()
    outcomes = {}
    for actor, method, url, body in _writes(w, scene):
        response = getattr(clients[actor], method)(url, {**body, **_extras(w)}, format="json")
        outcomes[(method, url)] = response.status_code
    # school_id and org_id are a notice's target fields: with class_ids as well the target
    # is ambiguous (400 target_required). Without them the same extras are ignored.
    targets = {"school_id", "org_id"}
    notice_body = {"title": "通知二", "body": "内容", "audience": "guardians", "class_ids": [w.classes[0].pk]}
    extras = {k: v for k, v in _extras(w).items() if k not in targets}
    created = clients["teacher"].post("/api/v1/notices/", {**notice_body, **extras}, format="json")

    assert {k: v for k, v in outcomes.items() if v >= 300} == {("post", "/api/v1/notices/"): 400}
    assert created.status_code == 201, created.json()
    assert _authority() == before
    assert {name: client.get("/api/v1/me/").json() for name, client in clients.items()} == me_before
    # What was created belongs to the caller, in the caller's scope.
    notice = Notice.objects.get(pk=created.json()["id"])
    assert (notice.author_id, notice.school_id, notice.title) == (w.teachers[0].pk, w.schools[0].pk, "通知二")
    assert Notice.objects.count() == 1
    assert (
        Message.objects.filter(client_id="rw-1").values_list("sender_id", flat=True).get()
        == w.guardians[0][0].pk
    )
    assert Device.objects.get(token="role-writes-token").user_id == w.guardians[0][0].pk
    assert not Member.objects.filter(user=w.guardians[0][0]).exclude(role=Member.Role.GUARDIAN).exists()
    assert not Member.objects.filter(user=w.teachers[2]).exists()


def test_a_parent_cannot_become_a_teacher_or_another_childs_guardian(
    world: Any, scene: dict[str, Any], client_for: Callable[[Any], Any]
) -> None:
    from backend.notices.models import Notice
    from backend.privacy.policy import POLICY_VERSION

    w = world
    parent = w.guardians[0][0]
    other_child, other_parent = w.students[0][1], w.guardians[0][1]
    client = client_for(parent)
    me_before = client.get("/api/v1/me/").json()
    before = _authority()
    today = timezone.localdate()
    attempts = {
        "open a class discussion": ("post", "/api/v1/conversations/",
                                    {"kind": "discussion", "class_id": w.classes[0].pk, "title": "我来管"}),
        "post a class notice": ("post", "/api/v1/notices/",
                                {"title": "通知", "body": "内容", "audience": "guardians",
                                 "class_ids": [w.classes[0].pk]}),
        "set homework": ("post", "/api/v1/assignments/",
                         {"class_ids": [w.classes[0].pk], "subject": "数学", "title": "口算", "instructions": "x",
                          "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
                          "submission_types": ["text"], "grading": "none"}),
        "start a check-in campaign": ("post", "/api/v1/checkin-campaigns/",
                                      {"class_ids": [w.classes[0].pk], "title": "打卡", "start_date": str(today),
                                       "end_date": str(today + timedelta(days=3)), "content_types": ["text"]}),
        "import a roster naming themself": ("post", f"/api/v1/schools/{w.schools[0].pk}/roster-imports/", {}),
        "set office hours": ("put", "/api/v1/me/office-hours/",
                             {"weekdays": [1], "start": "08:00", "end": "09:00"}),
        "consent for another child": ("post", "/api/v1/privacy/consents/",
                                      {"student_id": other_child.pk, "policy_version": POLICY_VERSION}),
        "delete another child's data": ("post", "/api/v1/privacy/deletions/",
                                        {"student_ids": [other_child.pk], "confirm": "删除"}),
        "hand in another child's homework": ("post", f"/api/v1/assignments/{scene['assignment']}/submissions/",
                                             {"student_id": other_child.pk, "text": "x", "client_id": "rw-x"}),
        "chat as another child's parent": ("post", "/api/v1/conversations/",
                                           {"kind": "direct", "user_id": w.teachers[0].pk,
                                            "student_id": other_child.pk}),
        "chat with another parent about their child": ("post", "/api/v1/conversations/",
                                                        {"kind": "direct", "user_id": other_parent.pk,
                                                         "student_id": other_child.pk}),
    }  # fmt: skip
    notices = Notice.objects.count()
    refused = {}
    for name, (method, url, body) in attempts.items():
        response = getattr(client, method)(url, body, format="json")
        refused[name] = (
            response.status_code,
            response.json()["error"]["code"] if response.status_code >= 400 else None,
        )
    # 403/404, or 400 unknown_ids: the convention for ids in a body outside the caller's scope.
    allowed = {(400, "unknown_ids")}

    assert {n: r for n, r in refused.items() if r[0] not in (403, 404) and r not in allowed} == {}
    assert _authority() == before
    assert Notice.objects.count() == notices
    me = client.get("/api/v1/me/").json()
    assert (me["roles"], me["children"], me["classes"]) == (
        me_before["roles"],
        me_before["children"],
        me_before["classes"],
    )
    assert other_child.pk not in {c["id"] for c in me["children"]}
