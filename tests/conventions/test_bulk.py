"""bulk_insert() (COPY on PostgreSQL), insert_unless_exists() and the `__any` lookup."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.conventions.bulk import bulk_insert, insert_unless_exists
from backend.delivery.models import Delivery, Dispatch, PushState, SmsState
from backend.schools.models import Guardianship

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatch(world: Any) -> Dispatch:
    return Dispatch.objects.create(source_type="notice", source_id=1, event_type="notice.created")


def test_rows_are_written_with_the_model_defaults_in_one_statement(world: Any, dispatch: Dispatch) -> None:
    later = timezone.now() + timedelta(minutes=30)
    people = [world.guardians[0][0], world.guardians[0][1]]
    before = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        written = bulk_insert(
            Delivery,
            (
                "dispatch_id",
                "recipient_id",
                "channels",
                "push_state",
                "sms_state",
                "sms_params",
                "escalate_at",
            ),
            [
                (
                    dispatch.pk,
                    people[0].pk,
                    ["websocket"],
                    PushState.PENDING,
                    SmsState.NONE,
                    {"class": "三年级2班"},
                    later,
                ),
                (dispatch.pk, people[1].pk, ["websocket"], PushState.NONE, SmsState.PENDING, None, None),
            ],
        )

    assert written == 2
    assert len(queries.captured_queries) == 1
    first, second = Delivery.objects.filter(dispatch=dispatch).order_by("recipient_id")
    by_person = {first.recipient_id: first, second.recipient_id: second}
    row = by_person[people[0].pk]
    assert (row.channels, row.push_state, row.sms_state) == (["websocket"], "pending", "none")
    assert row.sms_params == {"class": "三年级2班"}
    assert row.escalate_at == later
    assert (row.sms_note, row.escalation_step, row.reminders, row.acknowledged_at) == ("", 0, 0, None)
    assert row.created_at >= before  # auto_now_add filled in
    other = by_person[people[1].pk]
    assert (other.push_state, other.sms_state, other.sms_params, other.escalate_at) == (
        "none",
        "pending",
        None,
        None,
    )
    assert Delivery.objects.filter(dispatch=dispatch, sms_params__isnull=True).count() == 1  # SQL NULL


def test_nothing_to_write_is_no_statement(dispatch: Dispatch) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert bulk_insert(Delivery, ("dispatch_id", "recipient_id"), []) == 0

    assert queries.captured_queries == []


def test_a_conflicting_row_fails_the_whole_statement(world: Any, dispatch: Dispatch) -> None:
    Delivery.objects.create(dispatch=dispatch, recipient=world.guardians[0][0])

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(
            Delivery,
            ("dispatch_id", "recipient_id"),
            [(dispatch.pk, world.guardians[0][1].pk), (dispatch.pk, world.guardians[0][0].pk)],
        )

    assert Delivery.objects.filter(dispatch=dispatch).count() == 1  # nothing of it stayed


def test_any_matches_what_in_matches_with_one_parameter(world: Any) -> None:
    ids = [g.pk for g in world.guardians[0][:3]] + [10**12]

    with CaptureQueriesContext(connection) as queries:
        found = set(Guardianship.objects.filter(guardian_id__any=ids).values_list("pk", flat=True))

    assert found == set(Guardianship.objects.filter(guardian_id__in=ids).values_list("pk", flat=True))
    assert found
    if connection.vendor == "postgresql":
        assert "= ANY(" in queries.captured_queries[0]["sql"]


def test_constants_fill_every_row_and_the_rest_keeps_the_defaults(world: Any, dispatch: Dispatch) -> None:
    later = timezone.now() + timedelta(minutes=30)
    people = [world.guardians[0][0], world.guardians[0][1]]

    with CaptureQueriesContext(connection) as queries:
        written = bulk_insert(
            Delivery,
            ("recipient_id", "sms_params"),
            [(people[0].pk, {"class": "三年级2班"}), (people[1].pk, None)],
            constants={
                "dispatch_id": dispatch.pk,
                "channels": ["websocket"],
                "push_state": PushState.PENDING,  # a choices enum is stored by its value
                "escalate_at": later,
            },
        )

    assert written == 2
    assert len(queries.captured_queries) == 1
    rows = {d.recipient_id: d for d in Delivery.objects.filter(dispatch=dispatch)}
    assert rows[people[0].pk].sms_params == {"class": "三年级2班"}
    assert rows[people[1].pk].sms_params is None
    for row in rows.values():
        assert (row.channels, row.push_state, row.sms_state, row.escalate_at) == (
            ["websocket"],
            "pending",
            "none",  # not given: the model's default
            later,
        )
        assert (row.sms_note, row.escalation_step, row.reminders) == ("", 0, 0)


def test_a_column_in_both_fields_and_constants_or_a_short_row_is_refused(
    world: Any, dispatch: Dispatch
) -> None:
    guardian = world.guardians[0][0]

    with pytest.raises(ValueError, match="both"):
        bulk_insert(
            Delivery,
            ("dispatch_id", "recipient_id"),
            [(dispatch.pk, guardian.pk)],
            constants={"dispatch_id": 1},
        )
    with pytest.raises(ValueError, match="2 columns"):
        bulk_insert(Delivery, ("dispatch_id", "recipient_id"), [(dispatch.pk,)])

    assert not Delivery.objects.filter(dispatch=dispatch).exists()


def test_insert_unless_exists_inserts_once_in_one_statement(world: Any) -> None:
    key = ("source_type", "source_id", "event_type")
    first = Dispatch(
        source_type="notice",
        source_id=7,
        event_type="notice.created",
        school_id=world.schools[0].pk,
        push_title="春游",
        push_data={"notice_id": "7"},
    )
    before = timezone.now()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert insert_unless_exists(first, unique=key) is True
        second = Dispatch(source_type="notice", source_id=7, event_type="notice.created", push_title="别的")
        assert insert_unless_exists(second, unique=key) is False
        # No savepoint was needed: the transaction is still usable after the conflict.
        assert Dispatch.objects.filter(source_id=7).count() == 1

    assert len(queries) == 3
    assert second.pk is None
    assert second._state.adding
    assert first.pk is not None
    assert not first._state.adding
    row = Dispatch.objects.get(pk=first.pk)
    assert (row.push_title, row.push_data, row.school_id) == ("春游", {"notice_id": "7"}, world.schools[0].pk)
    assert row.created_at >= before
    assert row.sms_params == {}
    assert row.urgency == "normal"
