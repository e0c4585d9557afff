"""No overdraft under concurrency (PostgreSQL): senders racing for the last segments."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from backend.conventions.errors import ApiError
from backend.sms.audience import Audience
from backend.sms.models import LedgerEntry, SmsMessage
from backend.sms.selectors import ledger_mismatches, reserved_segments_of_messages
from backend.sms.services import JobDraft, sms_account_transfer, sms_job_create, sms_send_for_users
from tests.sms.factories import add_guardians

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARAMS = {"class": "三年级(1)班", "title": "春游通知"}


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Start every worker at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = workers[index]()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_racing_senders_get_exactly_the_segments_there_are(world, funded):
    guardians = add_guardians(world.classes[0], 30)
    sms_account_transfer(source=funded.school, target=funded.bureau, segments=990)  # 10 left

    def sender(user: Any, n: int) -> Callable[[], str]:
        def send() -> str:
            with transaction.atomic():
                outcome = sms_send_for_users(
                    school_id=world.schools[0].pk,
                    sender_id=None,
                    template="notice",
                    params_by_user={user.pk: PARAMS},
                    source=f"race:{n}",
                    urgent=False,
                )
            return outcome[user.pk]

        return send

    results = race([sender(g, n) for n, g in enumerate(guardians)])
    assert Counter(results) == {"queued": 10, "no_quota": 20}
    funded.school.refresh_from_db()
    assert funded.school.available == 0
    assert SmsMessage.objects.filter(account=funded.school).count() == 10
    assert reserved_segments_of_messages(account_id=funded.school.pk) + _charged(funded.school) == 10
    assert ledger_mismatches() == []


def test_racing_jobs_never_reserve_more_than_the_balance(world, funded):
    # each job: the 3 guardians of class 0, 1 segment each; 10 available → 3 jobs fit
    sms_account_transfer(source=funded.school, target=funded.bureau, segments=990)
    admin = world.school_admins[0]
    draft = JobDraft(
        account_id=funded.school.pk,
        audience=Audience(class_ids=(world.classes[0].pk,)),
        template="safety_reminder",
        params={"topic": "雨天路滑"},
        urgent=True,
    )

    def create() -> str:
        try:
            sms_job_create(user=admin, draft=draft)
        except ApiError as exc:
            return exc.code
        return "created"

    results = race([create for _ in range(8)])
    assert Counter(results) == {"created": 3, "insufficient_quota": 5}
    funded.school.refresh_from_db()
    assert funded.school.balance - funded.school.reserved == 1
    assert LedgerEntry.objects.filter(account=funded.school, kind="reserve").count() == 3
    assert ledger_mismatches() == []


def _charged(account: Any) -> int:
    return -sum(LedgerEntry.objects.filter(account=account, kind="charge").values_list("segments", flat=True))
