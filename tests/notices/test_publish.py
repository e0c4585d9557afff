"""Posting a notice: who is told on which channel, one receipt per family, retries,
targets by role (class, grade, school, district) and refused input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.audit.models import AuditRecord
from backend.notices.models import Notice, NoticeReceipt
from backend.realtime.models import UserEvent
from backend.schools.models import Guardianship, Org
from backend.schools.services import guardianship_link, org_admin_grant, org_create

from .conftest import pushed_tokens, texted, texted_phones

pytestmark = pytest.mark.django_db


def test_teacher_posts_to_own_class_and_every_family_is_told(demo, class2, guardians2, post_notice):
    response = post_notice(demo.head2, [class2.pk])

    assert response.status_code == 201, response.json()
    notice = response.json()
    assert notice["status"] == "published"
    assert notice["target_label"] == "三年级(2)班"
    assert notice["stats"] == {"recipients": 30, "read": 0, "confirmed": 0}
    assert notice["my_receipt"] is None
    assert notice["author"] == {"id": demo.head2.pk, "display_name": "陈老师"}
    # one receipt per guardian, named as the class knows them, never by phone number
    receipts = NoticeReceipt.objects.filter(notice_id=notice["id"])
    assert sorted(r.recipient_id for r in receipts) == sorted(g.pk for g in guardians2)
    first = receipts.get(recipient=guardians2[0])
    link = Guardianship.objects.get(guardian=guardians2[0])
    assert first.display_name == f"{link.student.name}爸爸"
    assert first.students == [{"id": link.student_id, "name": link.student.name, "class_name": "三年级(2)班"}]
    # everyone has the event; app users (01–20) a push; the others (21–30) a text
    events = UserEvent.objects.filter(type="notice.created")
    assert sorted(e.user_id for e in events) == sorted(g.pk for g in guardians2)
    assert events[0].data == {
        "notice_id": notice["id"],
        "title": "春游通知",
        "urgent": False,
        "require_confirmation": True,
        "author": {"id": demo.head2.pk, "display_name": "陈老师"},
        "target": "三年级(2)班",
    }
    assert pushed_tokens() == [f"demo-fcm-token-{i:02d}" for i in range(1, 21)]
    assert texted_phones() == [g.phone for g in guardians2[20:]]
    assert all("三年级(2)班有新通知《春游通知》，回复1确认" in m.text for m in texted())


def test_sms_uses_the_plain_template_without_confirmation_and_none_when_fallback_is_off(
    demo, class2, post_notice
):
    assert post_notice(demo.head2, [class2.pk], require_confirmation=False).status_code == 201
    assert len(texted()) == 10
    assert all("有新通知《春游通知》，请登录家校通查看" in m.text for m in texted())

    assert post_notice(demo.head2, [class2.pk], title="家长会", sms_fallback=False).status_code == 201
    assert len(texted()) == 10  # nothing more
    assert len(pushed_tokens()) == 40


def test_guardian_sees_it_in_the_inbox_with_an_unread_count(
    demo, class2, guardians2, post_notice, client_for
):
    notice_id = post_notice(demo.head2, [class2.pk]).json()["id"]
    parent = client_for(guardians2[4])

    inbox = parent.get("/api/v1/notices/").json()
    assert [n["id"] for n in inbox["results"]] == [notice_id]
    row = inbox["results"][0]
    assert row["my_receipt"]["read_at"] is None
    assert (
        row["my_receipt"]["students"][0]["name"]
        == Guardianship.objects.get(guardian=guardians2[4]).student.name
    )
    assert row["stats"] is None
    assert inbox["next"] is None
    assert parent.get("/api/v1/notices/unread-count/").json() == {"unread": 1, "unconfirmed": 1}


def test_a_guardian_of_two_children_gets_one_receipt_naming_both(
    demo, class1, class2, guardians2, post_notice
):
    parent = guardians2[0]
    child1 = class1.memberships.filter(role="student").order_by("id").first().user
    guardianship_link(guardian=parent, student=child1, relation=Guardianship.Relation.MOTHER)

    response = post_notice(demo.admin, [class1.pk, class2.pk])

    assert response.status_code == 201
    assert response.json()["stats"]["recipients"] == 60
    receipt = NoticeReceipt.objects.get(notice_id=response.json()["id"], recipient=parent)
    assert {s["class_name"] for s in receipt.students} == {"三年级(1)班", "三年级(2)班"}
    assert UserEvent.objects.filter(user=parent, type="notice.created").count() == 1
    assert pushed_tokens().count("demo-fcm-token-01") == 1


def test_students_audience_reaches_students_not_guardians(demo, class2, post_notice, client_for):
    response = post_notice(demo.head2, [class2.pk], audience="students")

    assert response.json()["stats"]["recipients"] == 30
    student = demo.user("S20260205")
    assert NoticeReceipt.objects.get(notice_id=response.json()["id"], recipient=student).role == "student"
    inbox = client_for(student).get("/api/v1/notices/").json()["results"]
    assert inbox[0]["my_receipt"]["students"] == [{"id": student.pk, "name": student.name}]
    assert client_for(demo.user("13900000005")).get("/api/v1/notices/").json()["results"] == []


def test_all_audience_reaches_guardians_and_students(demo, class2, post_notice):
    response = post_notice(demo.head2, [class2.pk], audience="all")
    assert response.json()["stats"]["recipients"] == 60


def test_same_idempotency_key_three_times_publishes_once(demo, class2, post_notice):
    answers = [post_notice(demo.head2, [class2.pk], key="phone-retry-1") for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[1].json() == answers[0].json() == answers[2].json()
    assert Notice.objects.count() == 1
    assert NoticeReceipt.objects.count() == 30
    assert UserEvent.objects.filter(type="notice.created").count() == 30
    assert len(pushed_tokens()) == 20
    assert len(texted()) == 10


def test_urgent_notice_is_audited(demo, class2, post_notice):
    response = post_notice(demo.head2, [class2.pk], urgent=True, title="明日停课")

    assert response.status_code == 201
    record = AuditRecord.objects.get(action="notice.urgent")
    assert record.actor_id == demo.head2.pk
    assert record.object_id == str(response.json()["id"])
    assert record.detail["recipients"] == 30
    assert pushed_tokens() == [f"demo-fcm-token-{i:02d}" for i in range(1, 21)]


def test_school_admin_posts_to_a_grade_and_to_the_whole_school(demo, school, client_for, uploaded):
    grade = school.grades.get()
    admin = client_for(demo.admin)
    files = uploaded(demo.admin, 2)
    base = {
        "title": "期末安排",
        "body": "全年级期末考试安排见附件。",
        "audience": "guardians",
        "attachment_ids": files,
    }

    by_grade = admin.post(
        "/api/v1/notices/", {**base, "grade_ids": [grade.pk], "school_id": school.pk}, format="json"
    )
    whole = admin.post("/api/v1/notices/", {**base, "school_id": school.pk}, format="json")

    assert by_grade.status_code == 201, by_grade.json()
    assert (by_grade.json()["scope"], by_grade.json()["target_label"]) == ("grades", "三年级")
    assert by_grade.json()["stats"]["recipients"] == 60
    assert by_grade.json()["attachment_ids"] == files
    attachments = by_grade.json()["attachments"]
    assert [a["id"] for a in attachments] == files
    assert attachments[0]["name"] == "附件0.pdf"
    assert attachments[0]["url"].startswith("/api/v1/files/download/")
    assert whole.status_code == 201
    assert (whole.json()["scope"], whole.json()["target_label"]) == ("school", "洛阳市西工区示范小学")
    assert whole.json()["stats"]["recipients"] == 60


def test_bureau_admin_posts_to_every_school_below_only(demo, school, client_for):
    county = Org.objects.get(name="西工区")
    other_county = org_create(name="老城区", kind=Org.Kind.COUNTY, parent=county.get_parent())

    response = client_for(demo.bureau).post(
        "/api/v1/notices/",
        {"title": "防汛安全", "body": "汛期注意安全。", "audience": "guardians", "org_id": county.pk},
        format="json",
    )
    foreign = client_for(demo.bureau).post(
        "/api/v1/notices/",
        {"title": "防汛安全", "body": "汛期注意安全。", "audience": "guardians", "org_id": other_county.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["scope"], response.json()["school_id"]) == ("org", None)
    assert response.json()["stats"]["recipients"] == 60
    assert foreign.status_code == 400
    assert foreign.json()["error"]["code"] == "unknown_ids"


def test_school_admin_cannot_post_to_the_county(demo, school, client_for):
    county = Org.objects.get(name="西工区")
    response = client_for(demo.admin).post(
        "/api/v1/notices/",
        {"title": "x", "body": "y", "audience": "guardians", "org_id": county.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_ids"
    assert Notice.objects.count() == 0


def test_admin_of_another_school_cannot_post_to_this_one(demo, school, class2, client_for):
    other = org_create(name="西工区第二小学", kind=Org.Kind.SCHOOL, parent=school.get_parent())
    admin2 = type(demo.admin).objects.create_user("13811112222", None, name="王校长")
    org_admin_grant(org=other, user=admin2, role="school_admin")

    for body in (
        {"class_ids": [class2.pk]},
        {"school_id": school.pk},
        {"grade_ids": [school.grades.get().pk]},
    ):
        response = client_for(admin2).post(
            "/api/v1/notices/", {"title": "x", "body": "y", "audience": "guardians", **body}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_ids"
    assert Notice.objects.count() == 0


def _past() -> str:
    return (timezone.now() - timedelta(minutes=1)).isoformat()


BAD_INPUT = [
    pytest.param("foreign", {}, "unknown_ids", "class_ids", id="other-teachers-class"),
    pytest.param("mixed", {}, "unknown_ids", "class_ids", id="own-and-foreign-class"),
    pytest.param("missing", {}, "unknown_ids", "class_ids", id="unknown-class"),
    pytest.param("own", {"title": "  "}, "invalid", "title", id="empty-title"),
    pytest.param("own", {"title": "通" * 51}, "invalid", "title", id="long-title"),
    pytest.param("own", {"body": ""}, "invalid", "body", id="empty-body"),
    pytest.param("own", {"body": "字" * 5001}, "invalid", "body", id="long-body"),
    pytest.param("own", {"scheduled_at": "past"}, "scheduled_in_past", "scheduled_at", id="past-schedule"),
    pytest.param(
        "own", {"attachment_ids": list(range(1, 11))}, "invalid", "attachment_ids", id="ten-attachments"
    ),
    pytest.param("own", {"attachment_ids": ["x"]}, "invalid", "attachment_ids", id="attachment-not-int"),
    pytest.param("own", {"audience": "teachers"}, "invalid", "audience", id="bad-audience"),
    pytest.param("none", {}, "target_required", "class_ids", id="no-target"),
    pytest.param("none", {"grade_ids": ["grade"]}, "unknown_ids", "grade_ids", id="teacher-grade"),
    pytest.param("none", {"school_id": "school"}, "unknown_ids", "school_id", id="teacher-school"),
]


@pytest.mark.parametrize(("classes", "overrides", "code", "field"), BAD_INPUT)
def test_bad_input_writes_and_sends_nothing(
    demo, school, class1, class2, post_notice, classes, overrides, code, field
):
    class_ids = {
        "foreign": [class1.pk],
        "mixed": [class2.pk, class1.pk],
        "missing": [999999],
        "own": [class2.pk],
        "none": None,
    }[classes]
    values = {"past": _past(), "grade": school.grades.get().pk, "school": school.pk}
    overrides = {
        k: [values.get(i, i) for i in v] if isinstance(v, list) else values.get(v, v)
        for k, v in overrides.items()
    }

    response = post_notice(demo.head2, class_ids, **overrides)

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == code
    assert field in response.json()["error"]["fields"]
    assert Notice.objects.count() == 0
    assert NoticeReceipt.objects.count() == 0
    assert not UserEvent.objects.filter(type="notice.created").exists()
    assert pushed_tokens() == []
    assert texted() == []


def test_a_class_without_families_is_refused(demo, school, post_notice):
    from backend.schools.services import class_get_or_create, membership_set

    empty = class_get_or_create(school=school, grade=school.grades.get(), name="三年级(9)班")
    membership_set(school_class=empty, user=demo.head2, role="teacher")

    response = post_notice(demo.head2, [empty.pk])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "audience_empty"
    assert Notice.objects.count() == 0


def test_a_refused_post_does_not_burn_the_idempotency_key(demo, class2, post_notice):
    refused = post_notice(demo.head2, [class2.pk], key="k-1", title="")
    accepted = post_notice(demo.head2, [class2.pk], key="k-1")

    assert refused.status_code == 400
    assert accepted.status_code == 201


def test_deactivated_accounts_are_not_addressed(demo, class2, guardians2, post_notice):
    type(guardians2[29]).objects.filter(pk=guardians2[29].pk).update(is_active=False)

    response = post_notice(demo.head2, [class2.pk])

    assert response.json()["stats"]["recipients"] == 29
    assert not NoticeReceipt.objects.filter(recipient=guardians2[29]).exists()
    assert guardians2[29].phone not in texted_phones()


def test_someone_elses_attachment_is_refused_and_nothing_written(demo, class2, client_for, uploaded):
    from backend.notices.models import Notice

    not_mine = uploaded(demo.head1)
    response = client_for(demo.head2).post(
        "/api/v1/notices/",
        {
            "title": "春游",
            "body": "见附件",
            "class_ids": [class2.pk],
            "audience": "guardians",
            "attachment_ids": not_mine,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_attachments"
    assert Notice.objects.count() == 0


def test_bureau_notice_reaches_families_without_the_app_by_sms_on_the_bureau_account(demo, client_for):
    from backend.sms.models import SmsAccount
    from backend.sms.outbox import sent_messages

    county = demo.bureau.org_roles.get().org
    bureau_account = SmsAccount.objects.get(org=county, owner__isnull=True)
    before = bureau_account.available
    response = client_for(demo.bureau).post(
        "/api/v1/notices/",
        {"title": "寒假安全提醒", "body": "请注意防火防寒。", "org_id": county.pk, "audience": "guardians"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    texted = {m.phone for m in sent_messages()}
    # 三年级(1)班's 30 families never installed the app; (2)班's 21–30 neither.
    expected = {f"137000000{i:02d}" for i in range(1, 31)} | {f"139000000{i:02d}" for i in range(21, 31)}
    assert texted == expected
    bureau_account.refresh_from_db()
    assert bureau_account.available < before
