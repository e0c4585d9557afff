"""The message state machine: submit exactly once, deferred retries, ambiguous texts
reconciled by status query (never resent blindly), crashed workers, 72 h → unknown."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from backend.sms.models import LedgerEntry, SmsMessage
from backend.sms.outbox import sent_messages
from backend.sms.selectors import ledger_mismatches
from backend.sms.services import sms_reconcile, sms_send_for_users, sms_submit, sms_sweep
from backend.sms.tasks import sms_submit as sms_submit_task
from sms_gateway.errors import ErrorClass

pytestmark = pytest.mark.django_db

PARAMS = {"class": "三年级(1)班", "title": "春游通知"}


def queue(world, users, source="notice:1:notice.created:0"):
    """Queue texts without running the submit task (what a worker would pick up)."""
    with transaction.atomic():
        sms_send_for_users(
            school_id=world.schools[0].pk,
            sender_id=None,
            template="notice",
            params_by_user={u.pk: PARAMS for u in users},
            source=source,
            urgent=False,
        )
    return list(SmsMessage.objects.filter(source=source).order_by("id"))


def states() -> dict[str, str]:
    return dict(SmsMessage.objects.values_list("phone", "state"))


def test_running_the_submit_task_twice_sends_each_number_once(world, funded):
    rows = queue(world, world.guardians[0])
    ids = [m.pk for m in rows]
    assert sms_submit_task.apply(args=(ids,)).get() == 3
    assert sms_submit_task.apply(args=(ids,)).get() == 0
    phones = [m.phone for m in sent_messages()]
    assert sorted(phones) == sorted(g.phone for g in world.guardians[0])
    message = SmsMessage.objects.get(pk=ids[0])
    assert message.state == "submitted"
    assert message.biz_id
    assert message.out_id
    assert message.attempts == 1
    assert message.submitting_at is not None
    assert message.submitted_at is not None


def test_a_claimed_row_is_never_claimed_again(world, funded):
    """A worker that died after claiming (state submitting) leaves the row alone for
    others; the sweep turns it into ambiguous after the timeout, not into a resend."""
    rows = queue(world, world.guardians[0][:1])
    SmsMessage.objects.filter(pk=rows[0].pk).update(state="submitting", submitting_at=timezone.now())
    assert sms_submit(message_ids=[rows[0].pk]) == 0
    assert sms_sweep()["stuck"] == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False):
        result = sms_sweep()
    assert result["stuck"] == 1
    assert SmsMessage.objects.get(pk=rows[0].pk).state == "ambiguous"
    assert sent_messages() == []


def test_rate_limited_texts_are_deferred_then_sent(world, funded, memory, committed):
    g = world.guardians[0]
    memory.fail_number(g[0].phone, ErrorClass.DEFERRED, code="isv.BUSINESS_LIMIT_CONTROL", retry_after=60)
    rows = queue(world, g)
    sms_submit(message_ids=[m.pk for m in rows])
    deferred = SmsMessage.objects.get(phone=g[0].phone)
    assert deferred.state == "deferred"
    assert deferred.error_code == "isv.BUSINESS_LIMIT_CONTROL"
    assert deferred.next_attempt_at == deferred.deferred_at + timedelta(seconds=60)
    assert deferred.billing == "reserved"
    # not yet due: the sweep leaves it
    committed(sms_sweep)
    assert SmsMessage.objects.get(pk=deferred.pk).state == "deferred"
    memory.clear_failures()
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert committed(sms_sweep)["retried"] == 1
    assert SmsMessage.objects.get(pk=deferred.pk).state == "submitted"
    assert sorted(m.phone for m in sent_messages()) == sorted(u.phone for u in g)


def test_permanent_failures_release_the_reservation(world, funded, memory):
    g = world.guardians[0]
    memory.fail_number(g[1].phone, ErrorClass.PERMANENT_NUMBER, code="isv.MOBILE_NUMBER_ILLEGAL")
    sms_submit(message_ids=[m.pk for m in queue(world, g)])
    failed = SmsMessage.objects.get(phone=g[1].phone)
    assert (failed.state, failed.billing, failed.error_code) == (
        "failed",
        "refunded",
        "isv.MOBILE_NUMBER_ILLEGAL",
    )
    funded.school.refresh_from_db()
    assert funded.school.reserved == 2
    assert LedgerEntry.objects.get(kind="release").held == -1
    assert ledger_mismatches() == []


def test_ambiguous_send_that_went_out_is_reconciled_not_resent(world, funded, memory, committed):
    g = world.guardians[0]
    memory.ambiguous_once(actually_sent=True)
    sms_submit(message_ids=[m.pk for m in queue(world, g)])
    assert set(states().values()) == {"ambiguous"}
    assert len(sent_messages()) == 3
    result = committed(sms_sweep)
    assert result["reconciling"] == 3
    # the status query found them delivered: charged, and nothing sent again
    assert set(states().values()) == {"delivered"}
    assert len(sent_messages()) == 3
    funded.school.refresh_from_db()
    assert (funded.school.balance, funded.school.reserved) == (997, 0)
    assert ledger_mismatches() == []


def test_ambiguous_send_that_never_went_out_is_resent_after_the_grace(world, funded, memory, committed):
    g = world.guardians[0][:1]
    memory.ambiguous_once(actually_sent=False)
    rows = queue(world, g)
    sms_submit(message_ids=[m.pk for m in rows])
    assert sent_messages() == []
    # the provider has no record yet: too early to conclude anything
    assert sms_reconcile(message_ids=[rows[0].pk]) == 0
    assert SmsMessage.objects.get(pk=rows[0].pk).state == "ambiguous"
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False):
        assert committed(sms_reconcile, message_ids=[rows[0].pk]) == 1
    message = SmsMessage.objects.get(pk=rows[0].pk)
    assert message.state == "submitted"
    assert message.attempts == 2
    assert [m.phone for m in sent_messages()] == [g[0].phone]


def test_no_report_in_72_hours_becomes_unknown_and_a_late_failure_refunds(
    world, funded, memory, post_callback
):
    g = world.guardians[0][:1]
    sms_submit(message_ids=[m.pk for m in queue(world, g)])
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        assert sms_sweep()["unknown"] == 1
    message = SmsMessage.objects.get()
    assert (message.state, message.billing) == ("unknown", "charged")
    assert message.unknown_at is not None
    funded.school.refresh_from_db()
    assert (funded.school.balance, funded.school.reserved) == (999, 0)
    post_callback("report", memory.report_webhook_body(failed={g[0].phone: "MK:0005"}))
    message.refresh_from_db()
    assert (message.state, message.billing) == ("failed", "refunded")
    funded.school.refresh_from_db()
    assert (funded.school.balance, funded.school.reserved) == (1000, 0)
    assert ledger_mismatches() == []


def test_a_report_that_beats_the_worker_is_kept(world, funded, memory, post_callback, monkeypatch):
    """The provider accepted and reported before our worker recorded the result: the
    report (matched by out_id) wins, the worker does not overwrite it."""
    from backend.sms.services import submission

    rows = queue(world, world.guardians[0][:1])
    real_send = submission._send

    def send_then_report(request):
        results = real_send(request)
        post_callback("report", memory.report_webhook_body())
        return results

    monkeypatch.setattr(submission, "_send", send_then_report)
    sms_submit(message_ids=[rows[0].pk])
    message = SmsMessage.objects.get()
    assert (message.state, message.billing) == ("delivered", "charged")
    assert ledger_mismatches() == []
