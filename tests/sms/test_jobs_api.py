"""Mass texting over the API: preview and exclusions, create → submit → reports →
charged/refunded, bad input that reserves nothing, scope, quiet hours, idempotency."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from backend.accounts.models import User
from backend.realtime.models import UserEvent
from backend.sms.models import LedgerEntry, SmsJob, SmsMessage, SmsUnsubscribe
from backend.sms.outbox import sent_messages
from backend.sms.selectors import ledger_mismatches
from backend.sms.services import sms_account_create, sms_account_set_frozen, sms_account_transfer, sms_sweep
from tests.sms.factories import add_guardians

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
_TOMORROW = datetime.now(SHANGHAI).date() + timedelta(days=1)
DAY = datetime.combine(_TOMORROW, time(10, 0), tzinfo=SHANGHAI)
NIGHT = datetime.combine(_TOMORROW, time(22, 30), tzinfo=SHANGHAI)
NEXT_MORNING = datetime.combine(_TOMORROW + timedelta(days=1), time(7, 1), tzinfo=SHANGHAI)
MEETING = {"class": "三年级(1)班", "time": "3月5日下午3点", "place": "学校礼堂"}


def body(account, **overrides):
    data = {
        "account_id": account.pk,
        "template_id": "parent_meeting",
        "params": dict(MEETING),
        "audience": {"class_ids": [], "roles": ["guardians"]},
    }
    data.update(overrides)
    return data


def for_class(account, world, index=0, **overrides):
    data = body(account, **overrides)
    data["audience"] = {
        "class_ids": [world.classes[index].pk],
        "roles": ["guardians"],
        **overrides.get("audience", {}),
    }
    return data


def nothing_reserved(account) -> bool:
    account.refresh_from_db()
    return (
        account.reserved == 0
        and not LedgerEntry.objects.filter(account=account, kind="reserve").exists()
        and not SmsMessage.objects.exists()
        and not SmsJob.objects.exists()
    )


@time_machine.travel(DAY, tick=False)
def test_preview_shows_recipients_segments_cost_and_exclusions(world, funded, client_as):
    g = world.guardians[0]
    User.objects.filter(pk=g[0].pk).update(phone=None, student_number="NOPHONE")
    SmsUnsubscribe.objects.create(phone=g[1].phone)
    extra = add_guardians(world.classes[0], 1)[0]
    User.objects.filter(pk=extra.pk).update(phone="10000000000")  # imported before validation existed
    admin = client_as(world.school_admins[0])
    data = body(funded.school)
    data["audience"] = {"class_ids": [world.classes[0].pk], "roles": ["guardians", "teachers"]}
    response = admin.post("/api/v1/sms/jobs/preview/", data, format="json")
    assert response.status_code == 200, response.json()
    preview = response.json()
    assert preview["text"] == "【西工区第一小学】三年级(1)班定于3月5日下午3点在学校礼堂召开家长会，请准时参加"
    assert preview["recipients"] == 2  # g[2] and the class teacher
    assert preview["segments_per_message"] == 1
    assert preview["segments"] == 2
    assert preview["cost"] == "0.090"
    assert preview["available"] == 1000
    assert preview["sufficient"] is True
    assert preview["scheduled_for"] is None
    assert preview["excluded_counts"] == {"no_phone": 1, "unsubscribed": 1, "invalid_phone": 1}
    assert {(e["user_id"], e["reason"]) for e in preview["excluded"]} == {
        (g[0].pk, "no_phone"),
        (g[1].pk, "unsubscribed"),
        (extra.pk, "invalid_phone"),
    }
    assert nothing_reserved(funded.school)


@time_machine.travel(DAY, tick=False)
def test_duplicates_are_excluded_once(world, funded, client_as):
    # one guardian of two pupils in the class
    from backend.schools.services import guardianship_link

    guardianship_link(guardian=world.guardians[0][0], student=world.students[0][1], relation="父亲")
    response = client_as(world.school_admins[0]).post(
        "/api/v1/sms/jobs/preview/", for_class(funded.school, world), format="json"
    )
    assert response.json()["recipients"] == 3
    assert response.json()["excluded"] == [
        {"user_id": world.guardians[0][0].pk, "name": world.guardians[0][0].name, "reason": "duplicate"}
    ]


@time_machine.travel(DAY, tick=False)
def test_job_end_to_end_reports_charge_and_refund(world, funded, client_as, memory, post_callback, committed):
    admin_user = world.school_admins[0]
    admin = client_as(admin_user)
    response = committed(
        admin.post,
        "/api/v1/sms/jobs/",
        for_class(funded.school, world),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 201, response.json()
    job = response.json()
    assert job["status"] == "sending"
    assert (job["total"], job["queued"], job["segments_reserved"]) == (3, 3, 3)
    assert sorted(m.phone for m in sent_messages()) == sorted(g.phone for g in world.guardians[0])
    progress = admin.get(f"/api/v1/sms/jobs/{job['id']}/").json()
    assert (progress["submitted"], progress["queued"], progress["delivered"]) == (3, 0, 0)

    failed_phone = world.guardians[0][2].phone
    answer = post_callback("report", memory.report_webhook_body(failed={failed_phone: "MK:0001"}))
    assert answer.status_code == 200
    assert answer.json() == {"code": 0, "msg": "成功"}
    progress = admin.get(f"/api/v1/sms/jobs/{job['id']}/").json()
    assert progress["status"] == "completed"
    assert (progress["delivered"], progress["failed"], progress["queued"], progress["submitted"]) == (
        2,
        1,
        0,
        0,
    )
    assert (progress["segments_charged"], progress["segments_reserved"], progress["segments_refunded"]) == (
        2,
        0,
        1,
    )
    funded.school.refresh_from_db()
    assert (funded.school.balance, funded.school.reserved) == (998, 0)
    assert SmsMessage.objects.get(phone=failed_phone).error_code == "MK:0001"
    assert ledger_mismatches() == []
    # the sender heard about it over the realtime channel
    events = list(UserEvent.objects.filter(user=admin_user, type="sms.job_progress").order_by("seq"))
    assert events[0].data["queued"] == 3
    assert events[-1].data == {**events[-1].data, "status": "completed", "delivered": 2, "failed": 1}

    # a retry with the same key replays the job and sends nothing
    replay = committed(
        admin.post,
        "/api/v1/sms/jobs/",
        for_class(funded.school, world),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert replay.status_code == 200
    assert replay.json()["id"] == job["id"]
    assert len(sent_messages()) == 3
    assert SmsJob.objects.count() == 1


@time_machine.travel(DAY, tick=False)
def test_job_is_audited(world, funded, client_as, committed):
    from backend.audit.models import AuditRecord

    committed(
        client_as(world.school_admins[0]).post,
        "/api/v1/sms/jobs/",
        for_class(funded.school, world),
        format="json",
    )
    record = AuditRecord.objects.get(action="sms.job_created")
    assert record.actor == world.school_admins[0]
    assert record.detail["recipients"] == 3
    assert record.detail["segments"] == 3
    assert record.detail["cost"] == "0.135"


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"template_id": "no_such"}, 400, "unknown_template", "template_id"),
        ({"template_id": "notice"}, 400, "unknown_template", "template_id"),  # a platform-only template
        ({"params": {"class": "三年级(1)班", "time": "x"}}, 400, "template_params_invalid", "params.place"),
        ({"params": {**MEETING, "place": "很" * 21}}, 400, "template_params_invalid", "params.place"),
        ({"template_id": None, "params": {}, "text": "字" * 492}, 400, "text_too_long", "text"),
        ({"template_id": None, "params": {}, "text": "字" * 600}, 400, "text_too_long", "text"),
        ({"template_id": None, "params": {}}, 400, "content_invalid", "template_id"),
        ({"text": "两个都给"}, 400, "content_invalid", "template_id"),
    ],
)
def test_bad_content_is_refused_and_nothing_reserved(
    world, funded, client_as, overrides, status, code, field
):
    data = for_class(funded.school, world, **overrides)
    data = {k: v for k, v in data.items() if v is not None}
    response = client_as(world.school_admins[0]).post("/api/v1/sms/jobs/", data, format="json")
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert field in response.json()["error"].get("fields", {})
    assert nothing_reserved(funded.school)


def test_free_text_needs_a_provider_that_carries_it(world, funded, client_as, settings, committed):
    data = {k: v for k, v in for_class(funded.school, world).items() if k not in ("template_id", "params")}
    data["text"] = "明天上午学校停水，请给孩子带好饮用水。"
    admin = client_as(world.school_admins[0])
    settings.SMS_FREE_TEXT = False  # as with Aliyun
    refused = admin.post("/api/v1/sms/jobs/", data, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "free_text_not_supported"
    assert nothing_reserved(funded.school)
    settings.SMS_FREE_TEXT = None  # the memory provider carries free text
    with time_machine.travel(DAY, tick=False):
        created = committed(admin.post, "/api/v1/sms/jobs/", data, format="json")
    assert created.status_code == 201
    assert sent_messages()[0].text == "【西工区第一小学】明天上午学校停水，请给孩子带好饮用水。"


def test_insufficient_quota_and_frozen_account_reserve_nothing(world, funded, client_as):
    admin = client_as(world.school_admins[0])
    sms_account_transfer(source=funded.school, target=funded.bureau, segments=998)  # 2 left, 3 needed
    response = admin.post("/api/v1/sms/jobs/", for_class(funded.school, world), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_quota"
    assert nothing_reserved(funded.school)
    sms_account_set_frozen(account=funded.school, frozen=True)
    response = admin.post("/api/v1/sms/jobs/", for_class(funded.school, world), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_frozen"
    assert nothing_reserved(funded.school)


def test_scope_other_schools_account_guardians_and_foreign_classes(world, funded, client_as):
    # another school's admin, a teacher of another school and a guardian: the account is not theirs
    for user in (world.school_admins[1], world.teachers[2], world.guardians[0][0]):
        response = client_as(user).post("/api/v1/sms/jobs/", for_class(funded.school, world), format="json")
        assert response.status_code == 404, user
        assert response.json()["error"]["code"] == "not_found"
    # an admin naming a class of another school with their own account
    response = client_as(world.school_admins[0]).post(
        "/api/v1/sms/jobs/", for_class(funded.school, world, index=2), format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_ids"
    # a bureau admin texting a school with the school's... own bureau account is fine; another's is 404
    response = client_as(world.bureau_admins[1]).post(
        "/api/v1/sms/jobs/", for_class(funded.school, world), format="json"
    )
    assert response.status_code == 404
    assert nothing_reserved(funded.school)
    job_less = client_as(world.guardians[0][0]).get("/api/v1/sms/jobs/999/")
    assert job_less.status_code == 404


def test_teacher_texts_within_allowance_but_not_urgently(world, funded, client_as, committed):
    teacher = world.teachers[0]
    allowance = sms_account_create(org=world.schools[0], owner=teacher)
    sms_account_transfer(source=funded.school, target=allowance, segments=10)
    client = client_as(teacher)
    urgent = client.post("/api/v1/sms/jobs/", for_class(allowance, world, urgent=True), format="json")
    assert urgent.status_code == 403
    assert urgent.json()["error"]["code"] == "urgent_requires_admin"
    # the school's own account is not the teacher's to use
    school = client.post("/api/v1/sms/jobs/", for_class(funded.school, world), format="json")
    assert school.status_code == 404
    # a class the teacher does not teach
    other = client.post("/api/v1/sms/jobs/", for_class(allowance, world, index=1), format="json")
    assert other.status_code == 400
    assert other.json()["error"]["code"] == "unknown_ids"
    assert nothing_reserved(allowance)
    with time_machine.travel(DAY, tick=False):
        created = committed(client.post, "/api/v1/sms/jobs/", for_class(allowance, world), format="json")
    assert created.status_code == 201
    allowance.refresh_from_db()
    assert allowance.reserved == 3
    assert client.get("/api/v1/sms/accounts/").json()["results"] == [
        {**client.get(f"/api/v1/sms/accounts/{allowance.pk}/").json()}
    ]


def test_quiet_hours_hold_non_urgent_jobs_until_morning(world, funded, client_as, committed):
    admin = client_as(world.school_admins[0])
    with time_machine.travel(NIGHT, tick=False):
        response = committed(admin.post, "/api/v1/sms/jobs/", for_class(funded.school, world), format="json")
        assert response.status_code == 201
        assert response.json()["status"] == "scheduled"
        assert response.json()["scheduled_for"] == NEXT_MORNING.replace(minute=0).isoformat()
        assert sent_messages() == []
        committed(sms_sweep)
        assert sent_messages() == []
    with time_machine.travel(NEXT_MORNING, tick=False):
        committed(sms_sweep)
    assert len(sent_messages()) == 3
    # urgent texts go at once, at night too
    with time_machine.travel(NIGHT, tick=False):
        urgent = committed(
            admin.post,
            "/api/v1/sms/jobs/",
            for_class(funded.school, world, index=1, urgent=True),
            format="json",
        )
    assert urgent.json()["status"] == "sending"
    assert len(sent_messages()) == 6


def test_bureau_texts_its_district_with_the_bureau_account(world, funded, client_as, committed):
    data = body(funded.bureau, template_id="safety_reminder", params={"topic": "近期气温骤降"})
    data["audience"] = {"org_id": world.counties[0].pk, "roles": ["guardians", "teachers"]}
    with time_machine.travel(DAY, tick=False):
        response = committed(client_as(world.bureau_admins[0]).post, "/api/v1/sms/jobs/", data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["total"] == 8  # 6 guardians and 2 teachers of 西工区
    # a school account cannot pay for another school's classes
    data = body(funded.school, audience={"school_id": world.schools[1].pk, "roles": ["guardians"]})
    refused = client_as(world.bureau_admins[0]).post("/api/v1/sms/jobs/", data, format="json")
    assert refused.status_code == 404  # schools[1] is not in 西工区


def test_job_queries_are_constant_per_chunk(world, funded, client_as, django_assert_num_queries):
    """3 or 30 recipients: the same queries (the messages are one COPY / executemany,
    then their ids in one read; the event log is one statement on PostgreSQL, two on SQLite)."""
    from tests.sms.factories import add_guardians

    admin = client_as(world.school_admins[0])
    with time_machine.travel(DAY, tick=False):
        with django_assert_num_queries(21 if connection.vendor == "postgresql" else 22):
            small = admin.post("/api/v1/sms/jobs/", for_class(funded.school, world), format="json")
        add_guardians(world.classes[1], 27)
        with django_assert_num_queries(21 if connection.vendor == "postgresql" else 22):
            large = admin.post("/api/v1/sms/jobs/", for_class(funded.school, world, index=1), format="json")
    assert (small.json()["total"], large.json()["total"]) == (3, 30)
