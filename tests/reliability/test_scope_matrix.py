"""Scope matrix (IDOR) across apps: objects of class 0 (school 0, district 0) × every
endpoint × method × an actor of every role outside it → 404 and nothing written; the
owners still reach them; lists hold no foreign rows; events reach only the audience."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


def _consent(guardian: Any, student: Any) -> None:
    """Where minors' data needs a guardian's recorded consent (backend.privacy), give it."""
    try:
        from backend.privacy.policy import POLICY_VERSION
        from backend.privacy.services import consent_grant
    except ImportError:
        return
    consent_grant(guardian=guardian, student_id=student.pk, scope="basic", policy_version=POLICY_VERSION)


def _objects(matrix: Any, client_for: Callable[[Any], Any]) -> dict[str, Any]:
    """One of each object, owned by class 0, created the way users create them."""
    from backend.checkins.services import campaign_create
    from backend.sms.services.accounts import sms_account_create

    w = matrix.base
    teacher = client_for(w.teachers[0])
    notice = teacher.post(
        "/api/v1/notices/",
        {
            "title": "春游通知",
            "body": "本周五春游。",
            "audience": "guardians",
            "require_confirmation": True,
            "class_ids": [w.classes[0].pk],
        },
        format="json",
    )
    assert notice.status_code == 201, notice.json()
    assignment = teacher.post(
        "/api/v1/assignments/",
        {
            "class_ids": [w.classes[0].pk],
            "subject": "语文",
            "title": "背诵《静夜思》",
            "instructions": "背诵全诗。",
            "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "submission_types": ["text"],
            "grading": "score",
            "max_score": 100,
            "allow_resubmit": False,
        },
        format="json",
    )
    assert assignment.status_code == 201, assignment.json()
    student = w.students[0][0]
    _consent(w.guardians[0][0], student)
    submission = client_for(w.guardians[0][0]).post(
        f"/api/v1/assignments/{assignment.json()['id']}/submissions/",
        {"student_id": student.pk, "text": "床前明月光", "client_id": "rel-1"},
        format="json",
    )
    assert submission.status_code == 201, submission.json()
    today = timezone.localdate()
    campaign = campaign_create(
        teacher=w.teachers[0],
        class_ids=[w.classes[0].pk],
        title="每日阅读",
        description="每天读书二十分钟",
        start_date=today,
        end_date=today + timedelta(days=7),
        content_types=["text"],
        makeup_days=0,
    )
    checkin = client_for(w.guardians[0][0]).post(
        f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/",
        {"student_id": student.pk, "text": "读了二十分钟", "client_id": "rel-c1"},
        format="json",
    )
    assert checkin.status_code == 201, checkin.json()
    account = sms_account_create(org=w.schools[0], signature="西工一小", name="西工区第一小学")
    return {
        "notice": notice.json()["id"],
        "assignment": assignment.json()["id"],
        "submission": submission.json()["id"],
        "campaign": campaign.pk,
        "checkin": checkin.json()["id"],
        "class": w.classes[0].pk,
        "school": w.schools[0].pk,
        "sms_account": account.pk,
        "student": student.pk,
    }


def _requests(o: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    n, a, s, c, k = o["notice"], o["assignment"], o["submission"], o["campaign"], o["checkin"]
    return [
        ("get", f"/api/v1/notices/{n}/", None),
        ("get", f"/api/v1/notices/{n}/receipts/", None),
        ("post", f"/api/v1/notices/{n}/read/", {}),
        ("post", f"/api/v1/notices/{n}/confirm/", {"student_id": o["student"]}),
        ("post", f"/api/v1/notices/{n}/reminders/", {}),
        ("post", f"/api/v1/notices/{n}/cancel/", {}),
        ("post", f"/api/v1/notices/{n}/recall/", {"reason": "发错了"}),
        ("get", f"/api/v1/assignments/{a}/", None),
        ("patch", f"/api/v1/assignments/{a}/", {"title": "改"}),
        ("post", f"/api/v1/assignments/{a}/close/", {}),
        ("post", f"/api/v1/assignments/{a}/reminders/", {}),
        ("get", f"/api/v1/assignments/{a}/submissions/", None),
        (
            "post",
            f"/api/v1/assignments/{a}/submissions/",
            {"student_id": o["student"], "text": "x", "client_id": "o"},
        ),
        ("get", f"/api/v1/submissions/{s}/", None),
        ("post", f"/api/v1/submissions/{s}/feedback/", {"score": 1}),
        ("get", f"/api/v1/checkin-campaigns/{c}/", None),
        ("post", f"/api/v1/checkin-campaigns/{c}/close/", {}),
        ("get", f"/api/v1/checkin-campaigns/{c}/stats/", None),
        ("get", f"/api/v1/checkin-campaigns/{c}/checkins/", None),
        (
            "post",
            f"/api/v1/checkin-campaigns/{c}/checkins/",
            {"student_id": o["student"], "text": "x", "client_id": "o"},
        ),
        ("get", f"/api/v1/checkins/{k}/", None),
        ("post", f"/api/v1/checkins/{k}/comments/", {"text": "好"}),
        ("post", f"/api/v1/checkins/{k}/likes/", {}),
        ("get", f"/api/v1/classes/{o['class']}/members/", None),
        ("get", f"/api/v1/schools/{o['school']}/roster-imports/", None),
        ("get", f"/api/v1/sms/accounts/{o['sms_account']}/", None),
        ("get", f"/api/v1/sms/accounts/{o['sms_account']}/ledger/", None),
    ]


def _snapshot(matrix: Any, client_for: Callable[[Any], Any], o: dict[str, Any]) -> list[Any]:
    """What the owner sees of every object: a denied write must leave it unchanged."""
    teacher = client_for(matrix.base.teachers[0])
    urls = [
        f"/api/v1/notices/{o['notice']}/",
        f"/api/v1/notices/{o['notice']}/receipts/",
        f"/api/v1/assignments/{o['assignment']}/",
        f"/api/v1/submissions/{o['submission']}/",
        f"/api/v1/checkin-campaigns/{o['campaign']}/",
        f"/api/v1/checkins/{o['checkin']}/",
    ]
    return [teacher.get(url).json() for url in urls]


def test_every_foreign_actor_gets_404_on_every_object_endpoint_and_writes_nothing(
    matrix: Any, client_for: Callable[[Any], Any]
) -> None:
    from backend.realtime.models import UserEvent

    objects = _objects(matrix, client_for)
    before = _snapshot(matrix, client_for, objects)
    events_before = UserEvent.objects.count()
    unexpected = []
    for actor_name, actor in matrix.foreigners().items():
        client = client_for(actor)
        for method, url, body in _requests(objects):
            response = (
                getattr(client, method)(url, body, format="json") if body is not None else client.get(url)
            )
            if response.status_code != 404:
                unexpected.append(f"{actor_name} {method.upper()} {url} -> {response.status_code}")

    assert unexpected == []
    assert _snapshot(matrix, client_for, objects) == before
    assert UserEvent.objects.count() == events_before


def test_the_owners_reach_what_foreigners_cannot(matrix: Any, client_for: Callable[[Any], Any]) -> None:
    objects = _objects(matrix, client_for)
    teacher, guardian = client_for(matrix.base.teachers[0]), client_for(matrix.base.guardians[0][0])
    gets = [url for method, url, _ in _requests(objects) if method == "get"]

    teacher_denied = [
        url
        for url in gets
        if "sms/accounts" not in url and "roster" not in url and teacher.get(url).status_code != 200
    ]
    admin = client_for(matrix.base.school_admins[0])
    guardian_urls = [
        f"/api/v1/notices/{objects['notice']}/",
        f"/api/v1/assignments/{objects['assignment']}/",
        f"/api/v1/submissions/{objects['submission']}/",
        f"/api/v1/checkins/{objects['checkin']}/",
    ]

    assert teacher_denied == []
    assert [guardian.get(url).status_code for url in guardian_urls] == [200] * len(guardian_urls)
    assert admin.get(f"/api/v1/schools/{objects['school']}/roster-imports/").status_code == 200


@pytest.mark.parametrize(
    ("url", "key", "owner_url"),
    [
        ("/api/v1/notices/", "notice", "/api/v1/notices/?box=sent"),
        ("/api/v1/notices/?box=sent", "notice", "/api/v1/notices/?box=sent"),
        ("/api/v1/assignments/", "assignment", "/api/v1/assignments/"),
        ("/api/v1/checkin-campaigns/", "campaign", "/api/v1/checkin-campaigns/"),
    ],
)
def test_lists_hold_no_foreign_rows(
    matrix: Any, client_for: Callable[[Any], Any], url: str, key: str, owner_url: str
) -> None:
    objects = _objects(matrix, client_for)
    leaked = {}
    for actor_name, actor in matrix.foreigners().items():
        response = client_for(actor).get(url)
        rows = response.json()["results"] if response.status_code == 200 else []
        if objects[key] in {row["id"] for row in rows}:
            leaked[actor_name] = response.status_code
    owner_rows = client_for(matrix.base.teachers[0]).get(owner_url).json()["results"]

    assert leaked == {}
    assert objects[key] in {row["id"] for row in owner_rows}


def test_a_class_notice_writes_events_only_for_its_audience(
    matrix: Any, client_for: Callable[[Any], Any]
) -> None:
    from backend.realtime.models import UserEvent

    w = matrix.base
    response = client_for(w.teachers[0]).post(
        "/api/v1/notices/",
        {"title": "停课通知", "body": "明天停课。", "audience": "guardians", "class_ids": [w.classes[0].pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    notice_id = response.json()["id"]
    audience = {g.pk for g in w.guardians[0]} | {w.teachers[0].pk}
    rows = UserEvent.objects.filter(type__startswith="notice.")
    reached = {e.user_id for e in rows if e.data.get("notice_id") == notice_id}
    # Also as a socket would see it: a teacher of another class and foreign families got nothing.
    outsiders = {a.pk for a in matrix.foreigners().values()}

    assert reached, "the audience must receive the notice"
    assert reached - audience == set()
    assert {g.pk for g in w.guardians[0]} <= reached
    assert not UserEvent.objects.filter(user_id__in=outsiders, type__startswith="notice.").exists()
