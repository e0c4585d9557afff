"""A 10,000-recipient mass text end to end through the Dysmsapi simulator: the aliyun
provider submits in 1,000-number SendSms calls, the simulator posts delivery reports and
scripted replies back to the webhooks of a live server. Runs in the PostgreSQL + Redis
pass (live server threads need a real database)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from backend.sms.models import SmsJob, SmsMessage, SmsReply, SmsUnsubscribe
from backend.sms.replies import InboundReply, register_reply_handler, unregister_reply_handler
from backend.sms.selectors import job_counts, ledger_mismatches
from backend.sms.services import sms_account_top_up
from sms_gateway.simulator import DysmsapiSimulator
from tests.sms.conftest import CALLBACK_TOKEN
from tests.sms.factories import add_guardians
from tests.sms.simulated import simulator_as_provider

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def simulator(live_server: Any, settings: Any) -> Iterator[DysmsapiSimulator]:
    base = f"{live_server.url}/api/v1/sms/callbacks/simulator"
    with simulator_as_provider(
        settings,
        callback_token=CALLBACK_TOKEN,
        callback_ips=["127.0.0.1"],
        seed=7,
        read_timeout=30,
        report_url=f"{base}/report/?token={CALLBACK_TOKEN}",
        reply_url=f"{base}/reply/?token={CALLBACK_TOKEN}",
        report_batch_size=500,
    ) as sim:
        yield sim


def test_ten_thousand_recipients_exactly_once_with_reports_and_replies(world, funded, simulator, client_as):
    guardians = add_guardians(world.classes[0], 5_000) + add_guardians(world.classes[1], 5_000)
    sms_account_top_up(account=funded.school, segments=20_000)
    undeliverable, quitter, answerer = guardians[10].phone, guardians[20].phone, guardians[30].phone
    simulator.fail_delivery(undeliverable, "MK:0001")
    simulator.script_reply(quitter, "TD")
    simulator.script_reply(answerer, "收到，谢谢老师")
    heard: list[InboundReply] = []

    def job_replies(reply: InboundReply) -> bool:
        heard.append(reply)
        return True

    register_reply_handler("job", job_replies)
    started = time.monotonic()
    try:
        response = client_as(world.school_admins[0]).post(
            "/api/v1/sms/jobs/",
            {
                "account_id": funded.school.pk,
                "template_id": "school_closure",
                "params": {"reason": "暴雨红色预警", "date": "明天"},
                "audience": {"school_id": world.schools[0].pk, "roles": ["guardians"]},
                "urgent": True,
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="district-1",
        )
        assert response.status_code == 201, response.json()
        total = response.json()["total"]
        assert total == 10_006
        assert simulator.wait_for_callbacks(timeout=60)
    finally:
        unregister_reply_handler("job", job_replies)
    elapsed = time.monotonic() - started

    # exactly once per number, in provider-sized calls
    counts = simulator.send_counts()
    assert len(counts) == total
    assert set(counts.values()) == {1}
    assert simulator.requests["SendSms"] == 11
    job = SmsJob.objects.get()
    tally = job_counts(job_ids=[job.pk])[job.pk]
    assert (tally.delivered, tally.failed, tally.queued, tally.submitted) == (total - 1, 1, 0, 0)
    assert (tally.segments_charged, tally.segments_reserved, tally.segments_refunded) == (total - 1, 0, 1)
    assert SmsMessage.objects.get(phone=undeliverable).error_code == "MK:0001"
    funded.school.refresh_from_db()
    assert (funded.school.balance, funded.school.reserved) == (21_000 - (total - 1), 0)
    assert ledger_mismatches() == []
    # replies: TD unsubscribed, the other one reached the job's handler
    assert SmsUnsubscribe.objects.filter(phone=quitter).exists()
    assert [(r.phone, r.content, r.source) for r in heard] == [(answerer, "收到，谢谢老师", f"job:{job.pk}")]
    assert SmsReply.objects.count() == 2
    assert elapsed < 60
