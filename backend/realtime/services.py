"""Writes of the realtime gateway: the one door other apps use to tell users something
(`send_event_on_commit`), closing a deactivated user's sockets, and browser tickets."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from .frames import LAYER_DISCONNECT, LAYER_EVENT, event_frame, user_group
from .models import UserEvent, UserEventCounter
from .publishing import GroupMessage, publish_on_commit
from .registry import event_type_get

# Users per chunk: one statement each on PostgreSQL (an array parameter), two on SQLite,
# whose VALUES list takes one parameter per user: well under its (≥ 3.32) 32,766.
FANOUT_CHUNK_SIZE = 5000
# Events are hints that point at REST resources, not documents.
MAX_EVENT_DATA_BYTES = 64 * 1024

DEFAULT_TICKET_TTL_SECONDS = 30
TICKET_CACHE_PREFIX = "realtime:ticket:"
MAX_TICKET_LENGTH = 128


def _user_ids(users: Iterable[AbstractBaseUser | int]) -> list[int]:
    """Distinct ids in ascending order. Every sender locks counter rows in this order,
    so two concurrent fan-outs to overlapping users cannot deadlock on PostgreSQL."""
    ids = {int(u) if isinstance(u, int) else int(u.pk) for u in users}
    return sorted(ids)


def _normalized_data(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The payload exactly as it will read back from the log (dates become strings),
    so a live frame and a replayed frame are identical."""
    if not isinstance(data, Mapping):
        raise TypeError(f"event {event_type!r}: data must be a mapping, not {type(data).__name__}")
    encoded = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    if len(encoded.encode()) > MAX_EVENT_DATA_BYTES:
        raise ValueError(f"event {event_type!r}: data is larger than {MAX_EVENT_DATA_BYTES} bytes")
    normalized: dict[str, Any] = json.loads(encoded)
    return normalized


def _column(model: type[models.Model], field_name: str) -> str:
    field = model._meta.get_field(field_name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model.__name__}.{field_name} is not a concrete column")
    return field.column


def _allocate_and_insert(
    user_ids: list[int], event_type: str, db_data: Any, db_created_at: Any
) -> list[tuple[int, int]]:
    """Bump each user's counter and insert their event row for the whole chunk: one
    statement on PostgreSQL (the events are inserted from the upsert's own RETURNING
    rows), two on SQLite. Returns (user_id, seq) pairs.

    The upsert creates missing counters and takes their row locks in ascending id
    order (VALUES order); the locks hold until the caller's transaction ends, so the
    next sender to the same user waits and then continues from our number: no gaps,
    no repeats. Works on PostgreSQL and SQLite ≥ 3.35 (upsert with RETURNING)."""
    qn = connection.ops.quote_name
    counters = qn(UserEventCounter._meta.db_table)
    c_user, c_seq = (qn(_column(UserEventCounter, name)) for name in ("user", "last_seq"))
    events = qn(UserEvent._meta.db_table)
    e_cols = ", ".join(qn(_column(UserEvent, name)) for name in ("user", "seq", "type", "data", "created_at"))
    postgres = connection.vendor == "postgresql"
    ids_params: list[Any]
    if postgres:
        # One array parameter instead of thousands of placeholders: psycopg's client-side
        # query parsing of a 2,000-placeholder statement was a visible part of a fan-out.
        values_sql, ids_params = "SELECT unnest(%s::bigint[]), 1 ORDER BY 1", [user_ids]
    else:
        values_sql, ids_params = f"VALUES {', '.join(['(%s, 1)'] * len(user_ids))}", list(user_ids)
    upsert = (
        f"INSERT INTO {counters} ({c_user}, {c_seq}) {values_sql} "
        f"ON CONFLICT ({c_user}) DO UPDATE SET {c_seq} = {counters}.{c_seq} + 1 "
        f"RETURNING {c_user}, {c_seq}"
    )
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                f"WITH allocated AS ({upsert}), logged AS ("  # noqa: S608 - identifiers from _meta, values are parameters
                f"INSERT INTO {events} ({e_cols}) SELECT {c_user}, {c_seq}, %s, %s, %s FROM allocated) "
                f"SELECT {c_user}, {c_seq} FROM allocated",
                [*ids_params, event_type, db_data, db_created_at],
            )
            return [(int(uid), int(seq)) for uid, seq in cursor.fetchall()]
        cursor.execute(upsert, ids_params)
        allocated = [(int(uid), int(seq)) for uid, seq in cursor.fetchall()]
        # Our own just-locked counters hold exactly the numbers we allocated.
        cursor.execute(
            f"INSERT INTO {events} ({e_cols}) "  # noqa: S608 - identifiers from _meta, values are parameters
            f"SELECT {c_user}, {c_seq}, %s, %s, %s FROM {counters} "
            f"WHERE {c_user} IN ({', '.join(['%s'] * len(user_ids))})",
            [event_type, db_data, db_created_at, *user_ids],
        )
    return allocated


def send_event_on_commit(
    users: Iterable[AbstractBaseUser | int], event_type: str, data: Mapping[str, Any]
) -> None:
    """Record `event_type` with `data` for every user (User objects or ids) and publish
    it to their sockets once the surrounding transaction commits.

    Inside the caller's transaction: one statement per 5,000 users on PostgreSQL, two on
    SQLite, whatever the count.
    If the transaction rolls back, no row and no frame remain. Publishing failures
    (Redis down) are logged, never raised: clients recover with resume.
    Raises ValueError for an unregistered type, for data over 64 KiB, and (when
    settings.REALTIME_VALIDATE_EVENTS is on) for data that does not match the schema."""
    definition = event_type_get(event_type)
    payload = _normalized_data(event_type, data)
    if getattr(settings, "REALTIME_VALIDATE_EVENTS", False):
        definition.validate(payload)
    user_ids = _user_ids(users)
    if not user_ids:
        return

    created_at = timezone.now()
    data_field = UserEvent._meta.get_field("data")
    db_data = data_field.get_db_prep_value(payload, connection, prepared=False)
    db_created_at = connection.ops.adapt_datetimefield_value(created_at)
    # Everything but seq is the same for every recipient: format it once.
    template = event_frame(event_type=event_type, seq=0, created_at=created_at, data=payload)
    messages: list[GroupMessage] = []
    # savepoint=False: no extra queries inside the caller's transaction; an error here
    # must roll the caller back anyway (nothing may be announced without its record).
    with transaction.atomic(savepoint=False):
        for start in range(0, len(user_ids), FANOUT_CHUNK_SIZE):
            chunk = user_ids[start : start + FANOUT_CHUNK_SIZE]
            for user_id, seq in _allocate_and_insert(chunk, event_type, db_data, db_created_at):
                frame = {**template, "seq": seq}
                messages.append((user_group(user_id), {"type": LAYER_EVENT, "frame": frame}))
        publish_on_commit(messages)


def realtime_disconnect_user_on_commit(user_id: int) -> None:
    """After commit, close every open socket of the user (any process) with 4401.
    The accounts app calls it when an account is deactivated."""
    publish_on_commit([(user_group(user_id), {"type": LAYER_DISCONNECT})])


def _ticket_key(ticket: str) -> str:
    # Only a hash is stored, so a cache dump does not hand out live tickets.
    return TICKET_CACHE_PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def realtime_ticket_issue(*, user: AbstractBaseUser) -> tuple[str, int]:
    """A single-use ticket for a browser's websocket handshake. Returns (ticket, ttl)."""
    ttl = int(getattr(settings, "REALTIME_TICKET_TTL", DEFAULT_TICKET_TTL_SECONDS))
    ticket = secrets.token_urlsafe(32)
    # The expiry travels in the value, so it is checked against our clock (and tests
    # can move it); the cache timeout only cleans up.
    cache.set(
        _ticket_key(ticket), {"user_id": int(user.pk), "expires_at": time.time() + ttl}, timeout=ttl + 5
    )
    return ticket, ttl


def realtime_ticket_take(*, ticket: str) -> int | None:
    """Use up a ticket: the user id it was issued to, or None when it is unknown,
    expired or already used. Of two concurrent takes only one wins: the one whose
    delete removed the key."""
    if not ticket or len(ticket) > MAX_TICKET_LENGTH:
        return None
    key = _ticket_key(ticket)
    value = cache.get(key)
    if not isinstance(value, dict) or not cache.delete(key):
        return None
    if time.time() > float(value.get("expires_at", 0)):
        return None
    return int(value["user_id"])
