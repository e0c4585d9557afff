"""The tables a fan-out writes once per recipient (receipts, deliveries, the event log)
carry no index that another one already covers (each index is written for every row)
and no database foreign-key check (a trigger query per row and key); every foreign key
still leads an index (cascades, the inbox and the per-user reads stay index scans), and
deleting a user or a notice through the ORM still removes their rows."""

from __future__ import annotations

import pytest
from django.db import connection

from backend.delivery.models import Delivery
from backend.notices.models import Notice, NoticeReceipt
from backend.realtime.models import UserEvent
from tests.notices.conftest import notice_input

pytestmark = pytest.mark.django_db

FANOUT_TABLES = {
    NoticeReceipt: ("notice_id", "recipient_id"),
    Delivery: ("dispatch_id", "recipient_id"),
    UserEvent: ("user_id",),
}


def _indexes(table: str) -> dict[str, tuple[list[str], bool]]:
    """name → (columns, partial) for every index and unique constraint of the table."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    found = {}
    for name, info in constraints.items():
        if info["index"] or info["unique"]:
            partial = name in {"receipt_unread", "delivery_held", "delivery_escalation_due"}
            found[name] = (list(info["columns"]), partial)
    return found


@pytest.mark.parametrize("model", list(FANOUT_TABLES), ids=lambda m: m.__name__)
def test_no_single_column_index_repeats_a_leading_column(model: type) -> None:
    indexes = _indexes(model._meta.db_table)
    full = [cols for cols, partial in indexes.values() if not partial]
    redundant = [
        name
        for name, (cols, partial) in indexes.items()
        if not partial
        and len(cols) == 1
        and cols[0] != "id"
        and any(len(other) > 1 and other[0] == cols[0] for other in full)
    ]
    assert redundant == []


@pytest.mark.parametrize("model", list(FANOUT_TABLES), ids=lambda m: m.__name__)
def test_every_foreign_key_leads_an_index(model: type) -> None:
    leading = {cols[0] for cols, partial in _indexes(model._meta.db_table).values() if not partial}
    assert set(FANOUT_TABLES[model]) <= leading


@pytest.mark.parametrize("model", list(FANOUT_TABLES), ids=lambda m: m.__name__)
def test_no_database_foreign_key_checks(model: type) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    checked = sorted(col for info in constraints.values() if info["foreign_key"] for col in info["columns"])
    assert checked == []


def test_deleting_a_user_or_a_notice_through_the_orm_removes_their_fanout_rows(world, client_for) -> None:
    teacher, guardians = world.teachers[0], world.guardians[0]
    response = client_for(teacher).post(
        "/api/v1/notices/", notice_input([world.classes[0].pk]), format="json"
    )
    assert response.status_code == 201
    notice = Notice.objects.get(pk=response.json()["id"])
    gone, kept = guardians[0], guardians[1]
    for model, column in ((NoticeReceipt, "recipient"), (Delivery, "recipient"), (UserEvent, "user")):
        assert model.objects.filter(**{column: gone}).exists(), model

    gone.delete()

    for model, column in ((NoticeReceipt, "recipient"), (Delivery, "recipient"), (UserEvent, "user")):
        assert not model.objects.filter(**{f"{column}_id": gone.pk}).exists(), model
        assert model.objects.filter(**{column: kept}).exists(), model

    notice.delete()

    assert not NoticeReceipt.objects.filter(notice_id=notice.pk).exists()
    assert NoticeReceipt.objects.count() == 0


@pytest.mark.postgres
def test_event_counters_are_bumped_in_place(world) -> None:
    """The second event to the same people updates their counters without new index
    entries (HOT updates: the counter table keeps room on its pages, fillfactor 50)."""
    from django.contrib.auth import get_user_model

    from backend.realtime.models import UserEventCounter
    from backend.realtime.services import send_event_on_commit

    User = get_user_model()
    users = [User(name=f"计数{i}", phone=f"1390000{i:04d}") for i in range(300)]
    User.objects.bulk_create(users)
    ids = list(User.objects.filter(name__startswith="计数").values_list("pk", flat=True))
    send_event_on_commit(ids, "notice.recalled", {"notice_id": 1})

    def updated() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_stat_get_xact_tuples_updated(%s::regclass), "
                "pg_stat_get_xact_tuples_hot_updated(%s::regclass)",
                [UserEventCounter._meta.db_table] * 2,
            )
            return cursor.fetchone()

    before = updated()
    send_event_on_commit(ids, "notice.recalled", {"notice_id": 2})
    after = updated()

    assert after[0] - before[0] == 300
    assert after[1] - before[1] == 300
