"""delivery_dispatch hands a dispatch's next batch to another worker before it sends its
own, and every device still gets the push exactly once (the demo class; memory push)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
import time_machine
from django.db import transaction

from backend.delivery import processing, tasks
from backend.delivery.models import Delivery, PushAttempt, PushState, SmsState
from backend.delivery.push import push_backend
from backend.delivery.rules import SHANGHAI
from backend.delivery.services import Event, PushContent, SmsContent, notify
from backend.realtime.registry import register_event
from backend.schools.models import Org

pytestmark = pytest.mark.django_db(transaction=True)

ITEM = "test.push_dispatch_item"
DAYTIME = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
BATCH = 7


@pytest.fixture(autouse=True)
def _setup(monkeypatch, settings):
    register_event(
        ITEM,
        schema={"type": "object", "required": ["item_id"], "properties": {"item_id": {"type": "integer"}}},
        description="An item for the dispatch tests.",
        audience="test recipients",
    )
    settings.PUSH_BACKEND = "memory"
    monkeypatch.setattr(processing, "BATCH", BATCH)


@pytest.fixture
def queued(monkeypatch):
    """delivery_dispatch tasks queued on a real broker (not run in-process), with how many
    pushes had gone out when each was queued."""
    monkeypatch.setitem(tasks.delivery_dispatch.app.conf, "task_always_eager", False)
    calls: list[tuple[tuple[int, ...], int]] = []
    monkeypatch.setattr(
        tasks.delivery_dispatch, "delay", lambda *args: calls.append((args, len(push_backend().outbox)))
    )
    return calls


def _tell(demo, source_id: int = 1):
    guardians = [demo.user(f"139000000{i:02d}") for i in range(1, 31)]
    with transaction.atomic():
        return notify(
            guardians,
            Event(type=ITEM, data={"item_id": source_id}, source_type="item", source_id=source_id),
            urgency="urgent",  # every app user, whatever the hour or the socket
            school_id=Org.objects.get(name="洛阳市西工区示范小学").pk,
            push=PushContent(title="停课通知", body="明天停课", data={"item_id": str(source_id)}),
            sms=SmsContent(template="notice", params={"class": "三年级(2)班", "title": "停课通知"}),
        )


def _pending_ids(dispatch) -> list[int]:
    return list(
        Delivery.objects.filter(dispatch=dispatch, push_state=PushState.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )


@time_machine.travel(DAYTIME, tick=False)
def test_a_full_batch_queues_the_next_before_sending_and_every_device_gets_one_push(demo, queued):
    dispatch = _tell(demo)
    assert queued == [((dispatch.pk,), 0)]  # notify() queued the first batch on commit
    queued.clear()
    ids = list(Delivery.objects.filter(dispatch=dispatch).order_by("id").values_list("id", flat=True))

    assert tasks.delivery_dispatch(dispatch.pk) == BATCH

    # The next batch was queued with nothing of this one sent yet.
    assert queued == [((dispatch.pk, ids[BATCH - 1]), 0)]
    assert len(push_backend().outbox) > 0

    # The broker hands the queued tasks over, one after the other, until a partial batch.
    runs = [BATCH]
    while queued:
        (args, _), *rest = queued
        queued[:] = rest
        runs.append(tasks.delivery_dispatch(*args))
    assert runs == [7, 7, 7, 7, 2]  # 30 recipients
    tokens = Counter(m.token for m in push_backend().outbox)
    assert tokens == Counter(f"demo-fcm-token-{i:02d}" for i in range(1, 21))  # once each
    # The 10 without the app are texted (queued on the SMS outbox: its submit tasks are on
    # the broker too), the others are not.
    texted = set(
        Delivery.objects.filter(dispatch=dispatch, sms_state=SmsState.QUEUED).values_list(
            "recipient_id", flat=True
        )
    )
    assert texted == {demo.user(f"139000000{i:02d}").pk for i in range(21, 31)}
    assert _pending_ids(dispatch) == []
    assert PushAttempt.objects.filter(delivery__dispatch=dispatch).count() == 20


@time_machine.travel(DAYTIME, tick=False)
def test_a_redelivered_or_duplicate_task_sends_nothing_twice(demo, queued):
    dispatch = _tell(demo, source_id=2)
    queued.clear()
    first = tasks.delivery_dispatch(dispatch.pk)
    ((next_args, _),) = queued

    again = tasks.delivery_dispatch(dispatch.pk)  # the same task again (acks_late redelivery)
    after = tasks.delivery_dispatch(*next_args)
    after_again = tasks.delivery_dispatch(*next_args)

    assert first == BATCH
    # The rerun from the start takes the next pending rows, which the queued task then
    # no longer finds: every row is delivered by exactly one of them.
    assert again + after + after_again <= 30 - BATCH
    while queued:
        (args, _), *rest = queued
        queued[:] = rest
        tasks.delivery_dispatch(*args)
    tokens = Counter(m.token for m in push_backend().outbox)
    assert set(tokens.values()) == {1}
    assert len(tokens) == 20
    assert _pending_ids(dispatch) == []


@time_machine.travel(DAYTIME, tick=False)
def test_a_partial_batch_queues_nothing(demo, queued, monkeypatch):
    monkeypatch.setattr(processing, "BATCH", 1000)
    dispatch = _tell(demo, source_id=3)
    queued.clear()

    assert tasks.delivery_dispatch(dispatch.pk) == 30

    assert queued == []
    assert len(push_backend().outbox) == 20


@time_machine.travel(DAYTIME, tick=False)
def test_one_batch_costs_a_fixed_number_of_queries(demo, queued, django_assert_num_queries):
    dispatch = _tell(demo, source_id=4)
    queued.clear()

    # The first 7 guardians all have the app (no SMS in this batch): the dispatch; BEGIN;
    # the pending ids (ids only); the rows locked; devices; preferences; push attempts
    # written, read back and their answers saved; the rows saved; COMMIT.
    with django_assert_num_queries(11):
        assert tasks.delivery_dispatch(dispatch.pk) == BATCH


@time_machine.travel(DAYTIME, tick=False)
def test_in_process_the_next_batch_waits_for_the_commit(demo, queued, monkeypatch):
    # Embedded default: tasks run in-process, so the next batch would run inside this
    # batch's transaction; it is queued on commit instead, after this batch's sends.
    monkeypatch.setitem(tasks.delivery_dispatch.app.conf, "task_always_eager", True)
    dispatch = _tell(demo, source_id=5)
    queued.clear()
    ids = list(Delivery.objects.filter(dispatch=dispatch).order_by("id").values_list("id", flat=True))

    assert tasks.delivery_dispatch(dispatch.pk) == BATCH

    assert queued == [((dispatch.pk, ids[BATCH - 1]), BATCH)]  # queued once all 7 were pushed


@pytest.mark.postgres
@time_machine.travel(DAYTIME, tick=False)
def test_a_window_partly_held_by_another_worker_still_hands_on_the_rest(demo, queued):
    """Two chains overlap (notify() starts one per chunk): the rows another worker holds
    are skipped, and the chain still goes on past its window instead of stopping on a
    short batch and leaving the rest pending for good."""
    import psycopg
    from django.db import connection

    dispatch = _tell(demo)
    queued.clear()
    ids = _pending_ids(dispatch)
    held = ids[2:5]  # inside the first window of 7
    params = connection.get_connection_params()
    other = psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password"),
        dbname=params["dbname"],
    )
    try:
        other.execute(f"SELECT id FROM {Delivery._meta.db_table} WHERE id = ANY(%s) FOR UPDATE", [held])
        assert tasks.delivery_dispatch(dispatch.pk) == BATCH - len(held)
        assert queued == [((dispatch.pk, ids[BATCH - 1]), 0)]  # the window's end, not the last row it locked
        assert _pending_ids(dispatch) == held + ids[BATCH:]
    finally:
        other.rollback()
        other.close()
    # The other worker let go without sending (rolled back): its rows are still pending and
    # its own redelivered task sends them; the chain sends everything after the window.
    after = ids[BATCH - 1]
    while True:
        queued.clear()
        tasks.delivery_dispatch(dispatch.pk, after)
        if not queued:
            break
        after = queued[0][0][1]
    assert _pending_ids(dispatch) == held
    tasks.delivery_dispatch(dispatch.pk)
    assert _pending_ids(dispatch) == []
    assert Counter(m.token for m in push_backend().outbox).most_common(1)[0][1] == 1
