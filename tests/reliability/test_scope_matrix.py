"""Scope matrix (IDOR) across apps: objects of class 0 (school 0, district 0) × every
object endpoint × method × an actor of every role outside it → 404, nothing written
(every table compared row by row), no events; the owners still reach them; lists hold no
foreign rows; events reach only the audience. `POLICY` is the table; a coverage guard
fails when a route with a path parameter in backend/*/api/urls.py is missing from it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backend.delivery.rules import SHANGHAI

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
# Monday 10:00 in Beijing: inside teachers' default office hours, outside quiet hours.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def _consent(guardian: Any, student: Any) -> int | None:
    """Where minors' data needs a guardian's recorded consent (backend.privacy), give it."""
    try:
        from backend.privacy.policy import POLICY_VERSION
        from backend.privacy.services import consent_grant
    except ImportError:
        return None
    consent, _ = consent_grant(
        guardian=guardian, student_id=student.pk, scope="basic", policy_version=POLICY_VERSION
    )
    return int(consent.pk)


def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), (response.status_code, response.content[:300])
    return response.json()


def _objects(matrix: Any, client_for: Callable[[Any], Any]) -> dict[str, Any]:
    """One of each object, owned by class 0 (or its school, district, people), created the
    way users create them."""
    from backend.accounts.services import device_register
    from backend.checkins.services import campaign_create
    from backend.privacy.services import deletion_request, export_request
    from backend.sms.models import SmsMessage, SmsReply
    from backend.sms.services import sms_account_create, sms_account_top_up, sms_account_transfer
    from tests.schools.conftest import csv_bytes

    w = matrix.base
    w.schools[0].allow_class_visibility = True  # excellent homework shown in class
    w.schools[0].save(update_fields=["allow_class_visibility"])
    teacher, guardian, other_guardian = w.teachers[0], w.guardians[0][0], w.guardians[0][1]
    student = w.students[0][0]
    consent = _consent(guardian, student)
    _consent(other_guardian, w.students[0][1])
    t, g = client_for(teacher), client_for(guardian)
    notice = _ok(
        t.post(
            "/api/v1/notices/",
            {"title": "春游通知", "body": "本周五春游。", "audience": "guardians",
             "require_confirmation": True, "class_ids": [w.classes[0].pk]},
            format="json",
        )
    )  # fmt: skip
    assignment = _ok(
        t.post(
            "/api/v1/assignments/",
            {"class_ids": [w.classes[0].pk], "subject": "语文", "title": "背诵《静夜思》",
             "instructions": "背诵全诗。", "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
             "submission_types": ["text"], "grading": "score", "max_score": 100, "allow_resubmit": True},
            format="json",
        )
    )  # fmt: skip
    submission = _ok(
        g.post(
            f"/api/v1/assignments/{assignment['id']}/submissions/",
            {"student_id": student.pk, "text": "床前明月光", "client_id": "rel-1"},
            format="json",
        )
    )
    today = timezone.localdate()
    campaign = campaign_create(
        teacher=teacher,
        class_ids=[w.classes[0].pk],
        title="每日阅读",
        description="每天读书二十分钟",
        start_date=today,
        end_date=today + timedelta(days=7),
        content_types=["text"],
        makeup_days=0,
    )
    checkin = _ok(
        g.post(
            f"/api/v1/checkin-campaigns/{campaign.pk}/checkins/",
            {"student_id": student.pk, "text": "读了二十分钟", "client_id": "rel-c1"},
            format="json",
        )
    )
    discussion = _ok(
        t.post(
            "/api/v1/conversations/",
            {"kind": "discussion", "class_id": w.classes[0].pk, "title": "春游安排"},
            format="json",
        )
    )
    direct = _ok(
        t.post(
            "/api/v1/conversations/",
            {"kind": "direct", "user_id": guardian.pk, "student_id": student.pk},
            format="json",
        )
    )
    message = _ok(
        g.post(
            f"/api/v1/conversations/{discussion['id']}/messages/",
            {"body": "几点集合？", "client_id": "rel-m1"},
            format="json",
        )
    )
    _ok(
        t.post(
            f"/api/v1/conversations/{direct['id']}/messages/",
            {"body": "孩子今天表现很好。", "client_id": "rel-m2"},
            format="json",
        )
    )
    report = _ok(
        client_for(other_guardian).post(
            f"/api/v1/messages/{message['id']}/reports/", {"reason": "广告"}, format="json"
        )
    )
    roster = _ok(
        client_for(w.school_admins[0]).post(
            f"/api/v1/schools/{w.schools[0].pk}/roster-imports/",
            {"file": SimpleUploadedFile("花名册.csv", csv_bytes([["新生", "R0001", "三年级(2)班", "新家长", "母亲", "13912345678"]]))},
            format="multipart",
        )
    )  # fmt: skip
    bureau_account = sms_account_create(org=w.counties[0], signature="西工区教育局")
    sms_account_top_up(account=bureau_account, segments=1_000)
    account = sms_account_create(org=w.schools[0], signature="西工一小", name="西工区第一小学")
    sms_account_transfer(source=bureau_account, target=account, segments=500)
    allowance = sms_account_create(org=w.schools[0], owner=teacher)  # a teacher's own quota
    job = _ok(
        client_for(w.school_admins[0]).post(
            "/api/v1/sms/jobs/",
            {"account_id": account.pk, "template_id": "parent_meeting",
             "params": {"class": "三年级(1)班", "time": "3月5日下午3点", "place": "学校礼堂"},
             "audience": {"class_ids": [w.classes[0].pk], "roles": ["guardians"]}},
            format="json",
        ),
        201,
    )  # fmt: skip
    sms_ids = sorted(SmsMessage.objects.filter(job_id=job["id"]).values_list("pk", flat=True))
    assert sms_ids, "the mass text must have queued texts"
    reply = SmsReply.objects.create(phone=guardian.phone, content="收到", account=account, user=guardian)
    device, _ = device_register(user=guardian, platform="android", token="rel-device-token-0")
    export = export_request(user=guardian)
    deletion = deletion_request(user=other_guardian, confirm="删除", student_ids=[w.students[0][1].pk])
    return {
        "notice": notice["id"],
        "assignment": assignment["id"],
        "submission": submission["id"],
        "campaign": campaign.pk,
        "checkin": checkin["id"],
        "class": w.classes[0].pk,
        "school": w.schools[0].pk,
        "student": student.pk,
        "discussion": discussion["id"],
        "direct": direct["id"],
        "message": message["id"],
        "report": report["id"],
        "roster_import": roster["id"],
        "sms_account": account.pk,
        "bureau_account": bureau_account.pk,
        "sms_allowance": allowance.pk,
        "sms_job": job["id"],
        "sms_messages": sms_ids,
        "sms_reply": reply.pk,
        "device": device.pk,
        "consent": consent,
        "export": export.pk,
        "deletion": deletion.pk,
        "teacher": teacher.pk,
    }


@dataclass(frozen=True)
class Case:
    """One object endpoint × method: every foreigner gets 404; `owner` (a key of
    MatrixWorld.owners()) gets `expect`."""

    method: str
    route: str  # as written in backend/*/api/urls.py, below api/v1/
    ids: dict[str, str]  # path parameter → key of _objects()
    owner: str
    expect: int
    body: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    multipart: bool = False
    query: str = ""
    note: str = field(default="", compare=False)

    def url(self, o: dict[str, Any]) -> str:
        path = self.route
        for param, key in self.ids.items():
            path = re.sub(rf"<(\w+:)?{param}>", str(o[key]), path)
        assert "<" not in path, path
        return f"/api/v1/{path}{self.query.format(**o)}"

    def send(self, client: Any, o: dict[str, Any]) -> Any:
        method = getattr(client, self.method)
        if self.method == "get":
            return method(self.url(o))
        data = self.body(o) if self.body else {}
        return method(self.url(o), data, format="multipart" if self.multipart else "json")


def _roster_file(o: dict[str, Any]) -> dict[str, Any]:
    from tests.schools.conftest import csv_bytes

    row = ["转学生", "R0002", "三年级(2)班", "转学家长", "父亲", "13912345679"]
    return {"file": SimpleUploadedFile("花名册.csv", csv_bytes([row]))}


N, A, S = {"notice_id": "notice"}, {"assignment_id": "assignment"}, {"submission_id": "submission"}
CP, CK = {"campaign_id": "campaign"}, {"checkin_id": "checkin"}
DISC, DIRECT = {"conversation_id": "discussion"}, {"conversation_id": "direct"}
MSG = {"message_id": "message"}
ACCOUNT = {"account_id": "sms_account"}

# Ordered so that the owners' pass, run top to bottom on one set of objects, meets every
# object in the state its request needs (closing, recalling and deleting come last).
POLICY: list[Case] = [
    # notices
    Case("get", "notices/<notice_id>/", N, "guardian", 200),
    Case("get", "notices/<notice_id>/receipts/", N, "teacher", 200),
    Case("post", "notices/<notice_id>/read/", N, "guardian", 200),
    Case("post", "notices/<notice_id>/confirm/", N, "guardian", 200, lambda o: {"student_id": o["student"]}),
    Case("post", "notices/<notice_id>/reminders/", N, "teacher", 200),
    # homework
    Case("get", "assignments/<assignment_id>/", A, "guardian", 200),
    Case("patch", "assignments/<assignment_id>/", A, "teacher", 200, lambda o: {"title": "改"}),
    Case("get", "assignments/<assignment_id>/excellent/", A, "guardian", 200),
    Case("get", "assignments/<assignment_id>/submissions/", A, "teacher", 200),
    Case("get", "submissions/<submission_id>/", S, "guardian", 200),
    Case("post", "submissions/<submission_id>/feedback/", S, "teacher", 201, lambda o: {"score": 90}),
    Case(
        "post",
        "assignments/<assignment_id>/submissions/",
        A,
        "guardian",
        201,
        lambda o: {"student_id": o["student"], "text": "重交", "client_id": "owner-resubmit"},
    ),
    Case("post", "assignments/<assignment_id>/reminders/", A, "teacher", 200),
    # check-ins
    Case("get", "checkin-campaigns/<campaign_id>/", CP, "guardian", 200),
    Case("patch", "checkin-campaigns/<campaign_id>/", CP, "teacher", 200, lambda o: {"description": "改"}),
    Case("get", "checkin-campaigns/<campaign_id>/stats/", CP, "teacher", 200),
    Case(
        "get", "checkin-campaigns/<campaign_id>/streaks/", CP, "guardian", 200, query="?student_id={student}"
    ),
    Case("get", "checkin-campaigns/<campaign_id>/ranking/", CP, "teacher", 200),
    Case("get", "checkin-campaigns/<campaign_id>/checkins/", CP, "guardian", 200),
    Case(
        "post",
        "checkin-campaigns/<campaign_id>/checkins/",
        CP,
        "guardian",
        200,
        lambda o: {"student_id": o["student"], "text": "读了二十分钟", "client_id": "rel-c1"},
        note="the same client_id again: 200 with the first check-in",
    ),
    Case("get", "checkins/<checkin_id>/", CK, "teacher", 200),
    Case("post", "checkins/<checkin_id>/comments/", CK, "teacher", 201, lambda o: {"text": "好"}),
    Case("post", "checkins/<checkin_id>/likes/", CK, "teacher", 201),
    Case("delete", "checkins/<checkin_id>/likes/", CK, "teacher", 204),
    # classes, schools
    Case("get", "classes/<class_id>/members/", {"class_id": "class"}, "teacher", 200),
    Case("get", "schools/<school_id>/roster-imports/", {"school_id": "school"}, "school_admin", 200),
    Case(
        "post",
        "schools/<school_id>/roster-imports/",
        {"school_id": "school"},
        "school_admin",
        200,
        _roster_file,
        multipart=True,
        query="?dry_run=1",
    ),
    Case(
        "get",
        "schools/<school_id>/roster-imports/<import_id>/",
        {"school_id": "school", "import_id": "roster_import"},
        "school_admin",
        200,
    ),
    Case("get", "schools/<school_id>/sensitive-words/", {"school_id": "school"}, "school_admin", 200),
    Case(
        "put",
        "schools/<school_id>/sensitive-words/",
        {"school_id": "school"},
        "school_admin",
        200,
        lambda o: {"words": [{"word": "广告", "policy": "mask"}]},
    ),
    # conversations: the class discussion and the teacher–guardian chat
    Case("get", "conversations/<conversation_id>/", DISC, "guardian", 200),
    Case("get", "conversations/<conversation_id>/", DIRECT, "guardian", 200),
    Case("get", "conversations/<conversation_id>/messages/", DISC, "guardian", 200),
    Case("get", "conversations/<conversation_id>/messages/", DIRECT, "guardian", 200),
    Case(
        "post",
        "conversations/<conversation_id>/messages/",
        DISC,
        "guardian",
        201,
        lambda o: {"body": "收到", "client_id": "owner-1"},
    ),
    Case(
        "post",
        "conversations/<conversation_id>/messages/",
        DIRECT,
        "guardian",
        201,
        lambda o: {"body": "谢谢老师", "client_id": "owner-2"},
    ),
    Case(
        "post",
        "conversations/<conversation_id>/read/",
        DISC,
        "guardian",
        200,
        lambda o: {"up_to": o["message"]},
    ),
    Case("post", "conversations/<conversation_id>/read/", DIRECT, "guardian", 200, lambda o: {"up_to": 0}),
    Case(
        "put",
        "conversations/<conversation_id>/notifications/",
        DISC,
        "guardian",
        200,
        lambda o: {"muted": True},
    ),
    Case(
        "put",
        "conversations/<conversation_id>/notifications/",
        DIRECT,
        "guardian",
        200,
        lambda o: {"muted": True},
    ),
    Case(
        "post",
        "conversations/<conversation_id>/pin/",
        DISC,
        "teacher",
        200,
        lambda o: {"message_id": o["message"]},
    ),
    Case(
        "post",
        "conversations/<conversation_id>/mutes/",
        DISC,
        "teacher",
        200,
        lambda o: {"user_id": o["guardian_of_message"], "minutes": 10},
    ),
    Case("post", "messages/<message_id>/reports/", MSG, "guardian", 201, lambda o: {"reason": "骚扰"}),
    Case(
        "post",
        "moderation/reports/<report_id>/resolve/",
        {"report_id": "report"},
        "teacher",
        200,
        lambda o: {"action": "keep"},
    ),
    # SMS: the school's account (funded by the bureau), a mass text, a parent's reply
    Case("get", "sms/accounts/<int:account_id>/", ACCOUNT, "school_admin", 200),
    Case("get", "sms/accounts/<int:account_id>/", {"account_id": "sms_allowance"}, "teacher", 200),
    Case("get", "sms/accounts/<int:account_id>/ledger/", ACCOUNT, "school_admin", 200),
    Case(
        "post",
        "sms/accounts/<int:account_id>/transfers/",
        ACCOUNT,
        "bureau_admin",
        201,
        lambda o: {"to_account_id": o["bureau_account"], "segments": 1},
    ),
    Case("get", "sms/jobs/<int:job_id>/", {"job_id": "sms_job"}, "school_admin", 200),
    Case("post", "sms/replies/<int:reply_id>/handled/", {"reply_id": "sms_reply"}, "school_admin", 200),
    # accounts, privacy, stats
    Case("post", "privacy/consents/<consent_id>/withdraw/", {"consent_id": "consent"}, "guardian", 200),
    Case("get", "privacy/exports/<export_id>/", {"export_id": "export"}, "guardian", 200),
    Case("get", "privacy/deletions/<deletion_id>/", {"deletion_id": "deletion"}, "other_guardian", 200),
    Case("get", "stats/scores/teachers/<teacher_id>/", {"teacher_id": "teacher"}, "school_admin", 200),
    Case("delete", "devices/<device_id>/", {"device_id": "device"}, "guardian", 204),
    # the ends of lives: close, recall, delete
    Case("delete", "messages/<message_id>/", MSG, "teacher", 204),
    Case("post", "conversations/<conversation_id>/close/", DISC, "teacher", 200),
    Case("post", "checkin-campaigns/<campaign_id>/close/", CP, "teacher", 200),
    Case("post", "assignments/<assignment_id>/close/", A, "teacher", 200),
    Case("post", "notices/<notice_id>/recall/", N, "teacher", 200, lambda o: {"reason": "发错了"}),
    Case(
        "post", "notices/<notice_id>/cancel/", N, "teacher", 409, note="only a scheduled notice is cancelled"
    ),
]

# Routes with a path parameter that are not scoped by the caller, and what guards them.
NOT_OBJECT_ROUTES = {
    ("get", "files/download/<str:token>/"): "signed, expiring URL (test_files_scope.py)",
    ("get", "privacy/exports/download/<str:token>/"): "signed, expiring URL (tests/privacy/test_export.py)",
    (
        "post",
        "sms/callbacks/<str:provider>/report/",
    ): "provider webhook: token + IP allowlist (tests/sms/test_callbacks.py)",
    (
        "post",
        "sms/callbacks/<str:provider>/reply/",
    ): "provider webhook: token + IP allowlist (tests/sms/test_callbacks.py)",
}


def _api_routes() -> Iterator[tuple[str, Any]]:
    from django.urls import URLResolver, get_resolver

    def walk(patterns: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    for route, pattern in walk(get_resolver().url_patterns, ""):
        if route.startswith("api/v1/"):
            yield route.removeprefix("api/v1/"), pattern


def _normalise(route: str) -> str:
    """`<str:x>` and `<x>` name the same parameter; `<int:x>` stays typed."""
    return route.replace("<str:", "<")


def test_every_object_route_is_in_the_policy_table() -> None:
    """Coverage guard: a new endpoint with an `<id>` in its path fails here until it is
    added to POLICY (checked for IDOR) or to NOT_OBJECT_ROUTES with what guards it."""
    routed = set()
    for route, pattern in _api_routes():
        if "<" not in route:
            continue
        view = pattern.callback.view_class
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                routed.add((method, _normalise(route)))
    covered = {(c.method, _normalise(c.route)) for c in POLICY}
    exempt = {(m, _normalise(r)) for m, r in NOT_OBJECT_ROUTES}

    assert sorted(routed - covered - exempt) == [], "object routes missing from POLICY"
    assert sorted((covered | exempt) - routed) == [], "POLICY names routes that do not exist"


def _owners(matrix: Any) -> dict[str, Any]:
    return {**matrix.owners(), "other_guardian": matrix.base.guardians[0][1]}


def _database() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table: a denied request must leave all of them as they were."""
    from django.apps import apps

    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def _changes(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def test_every_foreign_actor_gets_404_on_every_object_endpoint_and_writes_nothing(
    matrix: Any, client_for: Callable[[Any], Any]
) -> None:
    objects = _objects(matrix, client_for)
    objects["guardian_of_message"] = matrix.base.guardians[0][0].pk
    clients = {name: client_for(actor) for name, actor in matrix.foreigners().items()}
    before = _database()
    unexpected = []
    for actor_name, client in clients.items():
        for case in POLICY:
            response = case.send(client, objects)
            if response.status_code != 404:
                unexpected.append(
                    f"{actor_name} {case.method.upper()} {case.url(objects)} -> {response.status_code}"
                )

    assert unexpected == []
    assert _changes(before, _database()) == []


def test_the_owners_reach_what_foreigners_cannot(matrix: Any, client_for: Callable[[Any], Any]) -> None:
    objects = _objects(matrix, client_for)
    objects["guardian_of_message"] = matrix.base.guardians[0][0].pk
    owners = _owners(matrix)
    wrong = []
    for case in POLICY:
        response = case.send(client_for(owners[case.owner]), objects)
        if response.status_code != case.expect:
            wrong.append(f"{case.owner} {case.method.upper()} {case.url(objects)} -> {response.status_code}")

    assert wrong == [], "\n".join(wrong)


LISTS = [
    # (url, key of _objects(), owner who sees the row)
    ("/api/v1/notices/", "notice", "guardian"),
    ("/api/v1/notices/?box=sent", "notice", "teacher"),
    ("/api/v1/assignments/", "assignment", "teacher"),
    ("/api/v1/checkin-campaigns/", "campaign", "teacher"),
    ("/api/v1/conversations/", "discussion", "guardian"),
    ("/api/v1/conversations/", "direct", "guardian"),
    ("/api/v1/moderation/reports/", "report", "teacher"),
    ("/api/v1/sms/accounts/", "sms_account", "school_admin"),
    ("/api/v1/sms/accounts/", "sms_allowance", "teacher"),
    ("/api/v1/sms/jobs/", "sms_job", "school_admin"),
    ("/api/v1/sms/messages/", "sms_messages", "school_admin"),
    ("/api/v1/sms/replies/", "sms_reply", "school_admin"),
    ("/api/v1/devices/", "device", "guardian"),
    ("/api/v1/privacy/consents/", "consent", "guardian"),
    (lambda o: f"/api/v1/schools/{o['school']}/roster-imports/", "roster_import", "school_admin"),
]


def _rows(response: Any) -> list[dict[str, Any]]:
    if response.status_code != 200:
        return []
    body = response.json()
    return list(body["results"] if isinstance(body, dict) else body)


def test_lists_hold_no_foreign_rows(matrix: Any, client_for: Callable[[Any], Any]) -> None:
    objects = _objects(matrix, client_for)
    owners = _owners(matrix)
    leaked, missing = [], []
    for url_or_fn, key, owner in LISTS:
        url = url_or_fn(objects) if callable(url_or_fn) else url_or_fn
        wanted = set(objects[key]) if isinstance(objects[key], list) else {objects[key]}
        for actor_name, actor in matrix.foreigners().items():
            ids = {row["id"] for row in _rows(client_for(actor).get(url))}
            if ids & wanted:
                leaked.append((actor_name, url, key))
        if not wanted <= {row["id"] for row in _rows(client_for(owners[owner]).get(url))}:
            missing.append((owner, url, key))

    assert leaked == []
    assert missing == []


@pytest.mark.parametrize(
    "query",
    ["job={sms_job}", "notice={notice}"],
)
def test_filtering_sms_texts_by_a_foreign_job_or_notice_shows_nothing(
    matrix: Any, client_for: Callable[[Any], Any], query: str
) -> None:
    objects = _objects(matrix, client_for)
    url = "/api/v1/sms/messages/?" + query.format(**objects)
    seen = {name: _rows(client_for(actor).get(url)) for name, actor in matrix.foreigners().items()}

    assert {name: rows for name, rows in seen.items() if rows} == {}
    if query.startswith("job"):
        owner_rows = _rows(client_for(matrix.base.school_admins[0]).get(url))
        assert sorted(row["id"] for row in owner_rows) == objects["sms_messages"]


def _by_reference(o: dict[str, Any], w: Any) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Requests that name class 0's objects in the body or the query string instead of the
    path; each actor uses what is theirs for everything else."""
    from backend.privacy.policy import POLICY_VERSION

    meeting = {"class": "三年级(1)班", "time": "3月5日下午3点", "place": "学校礼堂"}
    job = {"account_id": o["sms_account"], "template_id": "parent_meeting", "params": meeting,
           "audience": {"class_ids": [o["class"]], "roles": ["guardians"]}}  # fmt: skip
    return [
        ("post", "/api/v1/sms/jobs/preview/", job),
        ("post", "/api/v1/sms/jobs/", job),
        ("get", f"/api/v1/stats/scores/?org_id={o['school']}", None),
        ("get", f"/api/v1/stats/scores/?org_id={w.counties[0].pk}", None),
        ("get", f"/api/v1/stats/reach/?class_id={o['class']}", None),
        ("get", f"/api/v1/stats/reports/quarterly.xlsx?org_id={o['school']}&quarter=2026Q4", None),
        ("post", "/api/v1/conversations/", {"kind": "discussion", "class_id": o["class"], "title": "插一脚"}),
        ("post", "/api/v1/conversations/", {"kind": "direct", "user_id": w.guardians[0][0].pk, "student_id": o["student"]}),
        ("post", "/api/v1/notices/", {"title": "通知", "body": "内容", "audience": "guardians", "class_ids": [o["class"]]}),
        ("post", "/api/v1/notices/", {"title": "通知", "body": "内容", "audience": "guardians", "school_id": o["school"]}),
        ("post", "/api/v1/privacy/consents/", {"student_id": o["student"], "policy_version": POLICY_VERSION}),
    ]  # fmt: skip


# How a refusal of an id named in a body may look besides 404 (API.md conventions).
BODY_REFUSALS = {(400, "unknown_ids"), (403, "guardian_chats_off")}


def test_foreign_ids_in_bodies_and_query_strings_are_refused(
    matrix: Any, client_for: Callable[[Any], Any]
) -> None:
    """A school admin cannot text from, or preview, another school's SMS account; nobody
    reads another org's statistics, opens a discussion in another class, chats about
    another family's child, notifies another class or school, or consents for another
    child. Nothing is written, nothing reserved."""
    objects = _objects(matrix, client_for)
    clients = {name: client_for(actor) for name, actor in matrix.foreigners().items()}
    before = _database()
    accepted = []
    for actor_name, client in clients.items():
        for method, url, body in _by_reference(objects, matrix.base):
            response = client.get(url) if body is None else getattr(client, method)(url, body, format="json")
            code = response.json()["error"]["code"] if response.status_code >= 400 else None
            if response.status_code != 404 and (response.status_code, code) not in BODY_REFUSALS:
                accepted.append(f"{actor_name} {method.upper()} {url} -> {response.status_code} {code}")

    assert accepted == []
    assert _changes(before, _database()) == []
    # The same references work for those they belong to: the refusals are about scope.
    owners = _owners(matrix)
    controls = [("school_admin", 0), ("school_admin", 2), ("school_admin", 5), ("bureau_admin", 3),
                ("teacher", 4), ("teacher", 6), ("teacher", 8), ("other_guardian", 10)]  # fmt: skip
    requests = _by_reference(objects, matrix.base)
    consent = {**(requests[10][2] or {}), "student_id": matrix.base.students[0][1].pk}
    requests[10] = ("post", "/api/v1/privacy/consents/", consent)
    reached = {}
    for owner, i in controls:
        method, url, body = requests[i]
        client = client_for(owners[owner])
        response = client.get(url) if body is None else getattr(client, method)(url, body, format="json")
        reached[(owner, url)] = response.status_code
    assert {k: v for k, v in reached.items() if v not in (200, 201)} == {}


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


def test_class_discussion_and_direct_chat_events_reach_only_their_members(
    matrix: Any, client_for: Callable[[Any], Any]
) -> None:
    from backend.realtime.models import UserEvent

    objects = _objects(matrix, client_for)
    w = matrix.base
    chat_events = UserEvent.objects.filter(type__startswith="message.")
    by_conversation: dict[int, set[int]] = {}
    for event in chat_events:
        conversation = event.data.get("conversation_id")
        if conversation is not None:
            by_conversation.setdefault(int(conversation), set()).add(event.user_id)
    class_people = {w.teachers[0].pk} | {g.pk for g in w.guardians[0]}

    assert by_conversation.get(objects["discussion"]), "the discussion's members must get its messages"
    assert by_conversation[objects["discussion"]] - class_people == set()
    assert by_conversation.get(objects["direct"], set()) == {w.teachers[0].pk, w.guardians[0][0].pk}
    outsiders = {a.pk for a in matrix.foreigners().values()}
    assert not chat_events.filter(user_id__in=outsiders).exists()
