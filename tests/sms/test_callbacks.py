"""Provider webhooks: authentication, duplicate reports, unsubscribe by reply, and the
reply router."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from backend.audit.models import AuditRecord
from backend.sms.models import LedgerEntry, SmsMessage, SmsReply, SmsUnsubscribe
from backend.sms.replies import InboundReply, register_reply_handler, unregister_reply_handler
from backend.sms.selectors import ledger_mismatches
from backend.sms.services import sms_send_for_users
from sms_gateway.callbacks import reply_body

pytestmark = pytest.mark.django_db

PARAMS = {"class": "三年级(1)班", "title": "春游通知"}
SOURCE = "notice:7:notice.created:0"


@pytest.fixture
def texted(world, funded, committed):
    """The class's guardians got a notice text."""

    def send() -> None:
        with transaction.atomic():
            sms_send_for_users(
                school_id=world.schools[0].pk,
                sender_id=world.teachers[0].pk,
                template="notice_confirm",
                params_by_user={g.pk: PARAMS for g in world.guardians[0]},
                source=SOURCE,
                urgent=False,
            )

    committed(send)
    return world.guardians[0]


def reply(memory, phone, content, dest_code, sequence_id=None):
    made = memory.make_reply(phone, content, dest_code=dest_code)
    if sequence_id is not None:
        made = type(made)(
            made.phone, made.content, made.send_time, made.sign_name, made.dest_code, sequence_id
        )
    return reply_body([made])


@pytest.mark.parametrize(
    ("token", "headers", "status", "code"),
    [
        (None, {}, 401, "callback_unauthenticated"),
        ("wrong", {}, 401, "callback_unauthenticated"),
        (None, {"HTTP_X_CALLBACK_TOKEN": "wrong"}, 401, "callback_unauthenticated"),
    ],
)
def test_unauthenticated_reports_write_nothing(
    api, texted, memory, callback_token, token, headers, status, code
):
    url = "/api/v1/sms/callbacks/memory/report/" + (f"?token={token}" if token else "")
    response = api.post(url, data=memory.report_webhook_body(), content_type="application/json", **headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert set(SmsMessage.objects.values_list("state", flat=True)) == {"submitted"}
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_token_in_header_works_and_ip_allowlist_refuses_others(api, texted, memory, callback_token, settings):
    settings.SMS_CALLBACK_IPS = ["10.0.0.0/8"]
    url = "/api/v1/sms/callbacks/memory/report/"
    headers = {"HTTP_X_CALLBACK_TOKEN": callback_token}
    refused = api.post(url, data=memory.report_webhook_body(), content_type="application/json", **headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ip_not_allowed"
    assert not LedgerEntry.objects.filter(kind="charge").exists()
    settings.SMS_CALLBACK_IPS = ["127.0.0.1", "10.0.0.0/8"]
    accepted = api.post(url, data=memory.report_webhook_body(), content_type="application/json", **headers)
    assert accepted.status_code == 200
    assert LedgerEntry.objects.get(kind="charge").segments == -3


def test_unconfigured_token_refuses_everything(api, texted, memory, settings):
    settings.SMS_CALLBACK_TOKEN = ""
    response = api.post(
        "/api/v1/sms/callbacks/memory/report/?token=",
        data=memory.report_webhook_body(),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_other_provider_and_malformed_bodies(post_callback, texted):
    assert post_callback("report", "[]", provider="aliyun").status_code == 404
    malformed = post_callback("report", json.dumps([{"phone_number": "13500000003"}]))
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "callback_malformed"
    assert post_callback("report", "not json").status_code == 400


def test_duplicate_reports_are_ignored(post_callback, texted, memory, funded):
    body = memory.report_webhook_body()
    assert post_callback("report", body).json() == {"code": 0, "msg": "成功"}
    assert post_callback("report", body).json() == {"code": 0, "msg": "成功"}
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    funded.school.refresh_from_db()
    assert (funded.school.balance, funded.school.reserved) == (997, 0)
    # a contradicting late report about a delivered text changes nothing either
    post_callback("report", memory.report_webhook_body(failed={texted[0].phone: "MK:0001"}))
    assert SmsMessage.objects.get(phone=texted[0].phone).state == "delivered"
    assert ledger_mismatches() == []


@pytest.mark.parametrize("content", ["TD", "td", " T ", "退订", "Ｔ Ｄ"])
def test_unsubscribe_by_reply(post_callback, texted, memory, funded, content, world, committed):
    phone = texted[0].phone
    assert (
        post_callback("reply", reply(memory, phone, content, funded.school.extension_code)).status_code == 200
    )
    unsubscribe = SmsUnsubscribe.objects.get(phone=phone)
    assert unsubscribe.account == funded.school
    stored = SmsReply.objects.get()
    assert (stored.routed_to, stored.handled, stored.source) == ("unsubscribe", True, SOURCE)
    audit = AuditRecord.objects.get(action="sms.unsubscribed")
    assert audit.detail["reply_id"] == stored.pk
    # no more non-urgent texts to that number
    with transaction.atomic():
        outcome = sms_send_for_users(
            school_id=world.schools[0].pk,
            sender_id=None,
            template="notice",
            params_by_user={texted[0].pk: PARAMS},
            source="notice:8:notice.created:0",
            urgent=False,
        )
    assert outcome == {texted[0].pk: "unsubscribed"}


def test_router_hands_replies_to_the_sources_app(post_callback, texted, memory, funded):
    received: list[InboundReply] = []

    def confirm(reply: InboundReply) -> bool:
        received.append(reply)
        return reply.content.strip() in ("1", "确认")

    register_reply_handler("notice", confirm)
    try:
        post_callback("reply", reply(memory, texted[0].phone, "1", funded.school.extension_code, 501))
        post_callback(
            "reply", reply(memory, texted[1].phone, "老师好，孩子今天请假", funded.school.extension_code, 502)
        )
    finally:
        unregister_reply_handler("notice", confirm)
    assert [r.content for r in received] == ["1", "老师好，孩子今天请假"]
    first = received[0]
    assert (first.phone, first.source, first.user_id, first.account_id) == (
        texted[0].phone,
        SOURCE,
        texted[0].pk,
        funded.school.pk,
    )
    rows = {r.content: r for r in SmsReply.objects.all()}
    assert (rows["1"].routed_to, rows["1"].handled) == ("notice", True)
    assert (rows["老师好，孩子今天请假"].routed_to, rows["老师好，孩子今天请假"].handled) == ("", False)


def test_catch_all_handler_and_a_failing_handler(post_callback, texted, memory, funded):
    def broken(reply: InboundReply) -> bool:
        SmsUnsubscribe.objects.create(phone="13999999999")  # rolled back with the handler
        raise RuntimeError("bug in another app")

    def chat(reply: InboundReply) -> bool:
        return True

    register_reply_handler("notice", broken)
    register_reply_handler("*", chat)
    try:
        response = post_callback(
            "reply", reply(memory, texted[0].phone, "收到", funded.school.extension_code, 9)
        )
    finally:
        unregister_reply_handler("notice", broken)
        unregister_reply_handler("*", chat)
    assert response.status_code == 200
    assert SmsReply.objects.get().routed_to == "*"
    assert not SmsUnsubscribe.objects.exists()


def test_duplicate_replies_are_stored_once(post_callback, texted, memory, funded):
    body = reply(memory, texted[0].phone, "收到", funded.school.extension_code, 77)
    post_callback("reply", body)
    post_callback("reply", body)
    assert SmsReply.objects.count() == 1


def test_replies_list_for_school_admins(post_callback, texted, memory, funded, world, client_as):
    post_callback("reply", reply(memory, texted[0].phone, "请问几点集合", funded.school.extension_code, 1))
    post_callback("reply", reply(memory, texted[1].phone, "TD", funded.school.extension_code, 2))
    admin = client_as(world.school_admins[0])
    unhandled = admin.get("/api/v1/sms/replies/?handled=false").json()["results"]
    assert [(r["phone"], r["content"]) for r in unhandled] == [(texted[0].phone, "请问几点集合")]
    assert len(admin.get("/api/v1/sms/replies/").json()["results"]) == 2
    # others see nothing
    for user in (world.teachers[0], world.school_admins[1], texted[0]):
        assert client_as(user).get("/api/v1/sms/replies/").json()["results"] == []
        assert client_as(user).post(f"/api/v1/sms/replies/{unhandled[0]['id']}/handled/").status_code == 404
    marked = admin.post(f"/api/v1/sms/replies/{unhandled[0]['id']}/handled/")
    assert marked.status_code == 200
    assert marked.json()["handled"] is True
    assert admin.get("/api/v1/sms/replies/?handled=false").json()["results"] == []
