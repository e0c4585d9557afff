"""sms_send_for_users: the contract the delivery pipeline calls, and sms_status_by_user."""

from __future__ import annotations

import pytest
from django.db import transaction

from backend.accounts.models import User
from backend.sms.models import LedgerEntry, SmsAccount, SmsMessage, SmsUnsubscribe
from backend.sms.outbox import sent_messages
from backend.sms.selectors import ledger_mismatches, reserved_segments_of_messages, sms_status_by_user
from backend.sms.services import (
    sms_account_create,
    sms_account_set_frozen,
    sms_account_transfer,
    sms_send_for_users,
)

pytestmark = pytest.mark.django_db

SOURCE = "notice:12:notice.created:0"
PARAMS = {"class": "三年级(1)班", "title": "春游通知"}


def send(
    world, users, *, source=SOURCE, template="notice", params=None, urgent=False, sender=None, school=None
):
    with transaction.atomic():
        return sms_send_for_users(
            school_id=(school or world.schools[0]).pk,
            sender_id=sender.pk if sender else None,
            template=template,
            params_by_user={u.pk: dict(params or PARAMS) for u in users},
            source=source,
            urgent=urgent,
        )


def test_queues_renders_reserves_and_sends_after_commit(world, funded, committed):
    guardians = world.guardians[0]
    outcomes = committed(send, world, guardians)
    assert outcomes == {g.pk: "queued" for g in guardians}
    texts = sorted(sent_messages(), key=lambda m: m.phone)
    assert [m.phone for m in texts] == sorted(g.phone for g in guardians)
    assert texts[0].text == "【西工区第一小学】三年级(1)班有新通知《春游通知》，请登录家校通查看"
    assert texts[0].extend_code == funded.school.extension_code
    funded.school.refresh_from_db()
    assert (funded.school.balance, funded.school.reserved) == (1000, 3)
    assert set(SmsMessage.objects.values_list("state", flat=True)) == {"submitted"}
    assert ledger_mismatches() == []
    assert reserved_segments_of_messages(account_id=funded.school.pk) == 3


def test_second_call_with_the_same_source_sends_and_reserves_nothing(world, funded, committed):
    guardians = world.guardians[0]
    committed(send, world, guardians)
    again = committed(send, world, guardians)
    assert again == {g.pk: "queued" for g in guardians}
    assert len(sent_messages()) == 3
    assert SmsMessage.objects.count() == 3
    assert LedgerEntry.objects.filter(kind="reserve").count() == 1
    # a new step of the same notice is a new source
    committed(send, world, guardians, source="notice:12:notice.created:2")
    assert len(sent_messages()) == 6


def test_refusals_per_user(world, funded, committed):
    g = world.guardians[0]
    User.objects.filter(pk=g[0].pk).update(phone=None, student_number="X1")
    SmsUnsubscribe.objects.create(phone=g[1].phone)
    student = world.students[0][0]  # a student number only: no phone
    broken = world.guardians[1][0]
    User.objects.filter(pk=broken.pk).update(phone="10000000000")  # imported before validation existed
    outcomes = committed(send, world, [*g, student, broken])
    assert outcomes == {
        g[0].pk: "no_phone",
        g[1].pk: "unsubscribed",
        g[2].pk: "queued",
        student.pk: "no_phone",
        broken.pk: "invalid_phone",
    }
    assert [m.phone for m in sent_messages()] == [g[2].phone]
    # urgent texts reach unsubscribed numbers
    urgent = committed(send, world, [g[1]], source="notice:13:notice.created:0", urgent=True)
    assert urgent == {g[1].pk: "queued"}


def test_template_errors_and_unknown_template_reserve_nothing(world, funded, committed):
    g = world.guardians[0]
    assert committed(send, world, g, template="no_such") == dict.fromkeys([u.pk for u in g], "template_error")
    too_long = {"class": "三年级(1)班", "title": "很" * 21}
    assert committed(send, world, g, params=too_long) == dict.fromkeys([u.pk for u in g], "template_error")
    assert committed(send, world, g, params={"class": "x"}) == dict.fromkeys(
        [u.pk for u in g], "template_error"
    )
    assert SmsMessage.objects.count() == 0
    assert not LedgerEntry.objects.filter(kind="reserve").exists()


def test_no_account_frozen_and_no_quota(world, funded, committed):
    g = world.guardians[0]
    province_school = world.schools[1]
    SmsAccount.objects.filter(pk=funded.other_school.pk).update(
        org=world.counties[1]
    )  # school 1 has none now
    assert committed(send, world, g, school=province_school) == dict.fromkeys([u.pk for u in g], "no_account")
    sms_account_set_frozen(account=funded.bureau, frozen=True)  # freezing the bureau freezes its schools
    assert committed(send, world, g) == dict.fromkeys([u.pk for u in g], "frozen")
    sms_account_set_frozen(account=funded.bureau, frozen=False)
    # leave 2 segments available: the first two users (by id) get them, the third does not
    sms_account_transfer(source=funded.school, target=funded.bureau, segments=998)
    outcomes = committed(send, world, g)
    ordered = sorted(u.pk for u in g)
    assert [outcomes[pk] for pk in ordered] == ["queued", "queued", "no_quota"]
    funded.school.refresh_from_db()
    assert funded.school.available == 0
    assert ledger_mismatches() == []


def test_teacher_allowance_pays_while_it_has_enough(world, funded, committed):
    teacher = world.teachers[0]
    allowance = sms_account_create(org=world.schools[0], owner=teacher)
    sms_account_transfer(source=funded.school, target=allowance, segments=3)
    committed(send, world, world.guardians[0], sender=teacher)
    allowance.refresh_from_db()
    funded.school.refresh_from_db()
    assert (allowance.reserved, funded.school.reserved) == (3, 0)
    assert set(SmsMessage.objects.values_list("account_id", flat=True)) == {allowance.pk}
    # the allowance is used up: the school account pays the next one
    committed(send, world, world.guardians[1], sender=teacher, source="notice:14:notice.created:0")
    funded.school.refresh_from_db()
    assert funded.school.reserved == 3


def test_sms_status_by_user(world, funded, memory, committed):
    g = world.guardians[0]
    committed(send, world, g)
    committed(send, world, [g[0]], source="notice:12:notice.created:1")
    SmsMessage.objects.filter(source="notice:12:notice.created:1").update(state="delivered")
    status = sms_status_by_user(
        source_prefix="notice:12:", user_ids=[u.pk for u in g] + [world.teachers[0].pk]
    )
    assert status == {g[0].pk: "delivered", g[1].pk: "submitted", g[2].pk: "submitted"}
    assert sms_status_by_user(source_prefix="notice:1:", user_ids=[g[0].pk]) == {}


def test_fan_out_queries_do_not_grow_with_recipients(world, funded, django_assert_num_queries):
    few = world.guardians[0][:1]
    many = [u for row in world.guardians[:2] for u in row]
    # Lookups (phones, already sent, unsubscribed, accounts), the locked reservation and
    # one insert, plus savepoints: the same for 1 or 6 recipients (a query per 2,000).
    with django_assert_num_queries(16):
        send(world, few, source="s:1")
    with django_assert_num_queries(16):
        send(world, many, source="s:2")


def test_slot_values_from_json_are_texted_as_strings(world, funded, committed):
    outcomes = committed(send, world, world.guardians[0][:1], params={"class": "三年级(1)班", "title": 2026})
    assert list(outcomes.values()) == ["queued"]
    assert sent_messages()[0].text.endswith("有新通知《2026》，请登录家校通查看")
