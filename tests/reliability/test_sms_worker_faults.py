"""A Celery worker killed (SIGKILL) mid-SMS-batch: the provider still sees exactly one send
per (source, phone), every text reaches a final state, and the quota is exact to the segment.

Real processes: a private redis-server as the broker, `celery worker` children on the
test's PostgreSQL database, the aliyun provider talking HTTP to the Dysmsapi simulator
(in this test's process, so it outlives the workers and keeps the record the assertions
read), delivery reports posted to a live server. The simulator accepts the first 1,000-
number SendSms call and stalls its answer: the worker is killed while it waits, so those
texts went out but the worker never learnt it; a second job's task waits in the broker. The simulator holds its delivery reports
until the end, so the reconcile has to find them through QuerySendDetails."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from celery import Celery

from tests.reliability.servers import CeleryWorker, PrivateRedis, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CALLBACK_TOKEN = "reliability-callback-token"
EXTRA_FAMILIES = 150  # + the 3 guardians of the world's class
QUOTA = 1_000
VISIBILITY_TIMEOUT = 3  # seconds (production: 12 h)


@pytest.fixture
def broker(private_redis: PrivateRedis) -> PrivateRedis:
    """The Celery broker of this test: a redis-server of its own."""
    return private_redis


@pytest.fixture
def simulator(live_server: Any, settings: Any) -> Iterator[Any]:
    from tests.sms.simulated import simulator_as_provider

    base = f"{live_server.url}/api/v1/sms/callbacks/simulator"
    with simulator_as_provider(
        settings,
        callback_token=CALLBACK_TOKEN,
        callback_ips=["127.0.0.1"],
        seed=5,
        report_url=f"{base}/report/?token={CALLBACK_TOKEN}",
    ) as sim:
        yield sim


def test_a_worker_killed_mid_batch_sends_each_text_exactly_once(
    world: Any, broker: PrivateRedis, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    from backend.sms.audience import Audience
    from backend.sms.models import MessageState, SmsAccount, SmsMessage
    from backend.sms.selectors import job_counts, ledger_mismatches
    from backend.sms.services import (
        JobDraft,
        sms_account_create,
        sms_account_top_up,
        sms_job_create,
        submission,
    )
    from tests.sms.factories import add_guardians

    def states() -> dict[str, int]:
        return dict(Counter(SmsMessage.objects.values_list("state", flat=True)))

    add_guardians(world.classes[1], EXTRA_FAMILIES)
    account = sms_account_create(org=world.schools[0], signature="【西工区第一小学】")
    sms_account_top_up(account=account, segments=QUOTA)

    # What the test process queues goes to the private broker, as a web process's would.
    sender = Celery("reliability-sender", broker=broker.url, set_as_current=False)

    def enqueue(task: str, *args: Any, eta: datetime | None = None) -> None:
        sender.send_task(f"backend.sms.tasks.{task}", args, eta=eta)

    monkeypatch.setattr(submission, "enqueue", enqueue)
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.reliability.process_settings",
        "RELIABILITY_BROKER_URL": broker.url,
        "RELIABILITY_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "RELIABILITY_SMS_ENDPOINT": simulator.url,
        "RELIABILITY_SUBMITTING_TIMEOUT": "2",
        "RELIABILITY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    first, second = CeleryWorker(env, "sms-a"), CeleryWorker(env, "sms-b")
    try:
        first.start()
        wait_until(first.ready, 60, lambda: f"worker A to start:\n{first.output()}")
        simulator.hold_callbacks()
        simulator.stall_next(300)  # the first call is accepted, its answer never arrives

        def job(template: str, params: dict[str, str]) -> Any:
            return sms_job_create(
                user=world.school_admins[0],
                draft=JobDraft(
                    account_id=account.pk,
                    audience=Audience(class_ids=(world.classes[1].pk,), roles=("guardians",)),
                    template=template,
                    params=params,
                    urgent=True,  # not held by quiet hours
                ),
            )

        # Two mass texts to the same families: one submit task each, in this order.
        closure = job("school_closure", {"reason": "暴雨红色预警", "date": "明天"})
        safety = job("safety_reminder", {"topic": "暴雨期间远离河道"})
        families = EXTRA_FAMILIES + 3
        assert closure.total == safety.total == families
        segments = closure.total * closure.segments_per_message + safety.total * safety.segments_per_message

        wait_until(
            lambda: len(simulator.sends) >= families,
            60,
            lambda: f"the first call to arrive:\n{first.output()}",
        )
        killed_at = time.monotonic()  # the task was taken before this
        first.kill()  # mid-batch: the first job's texts went out unrecorded, the second's are queued
        assert {s.out_id for s in simulator.sends} == set(
            SmsMessage.objects.filter(job=closure).values_list("out_id", flat=True)
        )
        assert len(simulator.sends) == families
        assert states() == {MessageState.SUBMITTING: families, MessageState.QUEUED: families}

        # Redis restores a dead worker's unacked task when a consumer starts and the task
        # is older than the visibility timeout: start worker B after that (a broker clock).
        restorable_at = killed_at + VISIBILITY_TIMEOUT + 1
        wait_until(
            lambda: time.monotonic() >= restorable_at, VISIBILITY_TIMEOUT + 2, "the visibility timeout"
        )
        second.start()
        wait_until(second.ready, 60, lambda: f"worker B to start:\n{second.output()}")

        # Worker B sends the second job, and the killed worker's task comes back (late
        # ack, visibility timeout) and finds nothing left to claim.
        def submitted() -> list[str]:
            """What each sms_submit run on worker B returned (texts handed over)."""
            lines = second.output().splitlines()
            return sorted(
                line.rsplit(" ", 1)[-1] for line in lines if "sms_submit[" in line and "succeeded" in line
            )

        wait_until(
            lambda: "0" in submitted() and str(families) in submitted(),
            60,
            lambda: f"both submit tasks to run on worker B ({states()}):\n{second.output()}",
        )
        # Any further redelivery (a slow run outliving the short visibility timeout) is a no-op too.
        assert submitted().count(str(families)) == 1
        assert set(submitted()) == {"0", str(families)}
        assert states() == {MessageState.SUBMITTING: families, MessageState.SUBMITTED: families}

        # What the beat runs every minute: stuck submissions → ambiguous → reconciled by
        # QuerySendDetails (the texts are found pending: submitted, not sent again).
        sender.send_task("backend.sms.tasks.sms_sweep")
        wait_until(
            lambda: states() == {MessageState.SUBMITTED: 2 * families},
            60,
            lambda: f"the sweep to reconcile the ambiguous texts ({states()}):\n{second.output()}",
        )
        assert f"'stuck': {families}" in second.output()

        simulator.release_callbacks()  # the late delivery reports arrive
        assert simulator.wait_for_callbacks(timeout=30)
        wait_until(
            lambda: states() == {MessageState.DELIVERED: 2 * families},
            30,
            lambda: f"every text to be settled by its report ({states()})",
        )
    finally:
        first.stop()
        second.stop()

    # The provider's record: exactly one send per (source, phone), in two calls.
    out_to_source = dict(SmsMessage.objects.values_list("out_id", "source").distinct())
    sent = Counter((out_to_source[s.out_id], s.phone) for s in simulator.sends)
    expected = set(SmsMessage.objects.values_list("source", "phone"))
    assert len(expected) == 2 * families
    assert set(sent) == expected
    assert set(sent.values()) == {1}
    assert simulator.requests["SendSms"] == 2
    assert simulator.requests["QuerySendDetails"] >= families

    # Quota exact to the segment: everything delivered is charged once, nothing held.
    tallies = job_counts(job_ids=[closure.pk, safety.pk])
    for tally in tallies.values():
        assert (tally.delivered, tally.failed, tally.queued, tally.submitted) == (families, 0, 0, 0)
        assert (tally.segments_reserved, tally.segments_refunded) == (0, 0)
    assert sum(t.segments_charged for t in tallies.values()) == segments
    account = SmsAccount.objects.get(pk=account.pk)
    assert (account.balance, account.reserved) == (QUOTA - segments, 0)
    assert ledger_mismatches() == []
