"""Writing many rows fast: `COPY … FROM STDIN` on PostgreSQL, one `executemany` elsewhere.

`Model.objects.bulk_create()` builds a model instance per row, prepares every field of
every row through the ORM and binds the values client-side; for the fan-outs (a notice's
receipts and deliveries, thousands of rows per chunk) that was most of the time measured
in bench/ (receipts scenario). `bulk_insert()` takes plain tuples for the columns the
caller sets and fills every other column once from the model's defaults.

What it does not do, by design: return ids, send signals, or skip conflicting rows. The
callers hold the lock that makes their rows new (the notice row during its fan-out, the
dispatch row during notify()), so a conflict is a bug and fails the transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Any

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

Converter = Callable[[Any], Any]


def _plain(value: Any) -> Any:
    # psycopg adapts an Enum by its *name*; model choices are stored by value.
    return value.value if isinstance(value, Enum) else value


def _json_converter(field: models.JSONField) -> Converter:
    encoder = field.encoder

    def convert(value: Any) -> Any:
        # None is SQL NULL, as bulk_create() stores it.
        return None if value is None else json.dumps(value, cls=encoder, ensure_ascii=False)

    return convert


def _converter(field: models.Field[Any, Any], *, copy: bool) -> Converter:
    """How one column's Python value becomes what the driver sends. With COPY on
    PostgreSQL psycopg adapts ints, strings, booleans and aware datetimes itself (the
    callers pass timezone.now()-style values), and a JSON text loads into a jsonb column;
    every other case goes through the field."""
    if isinstance(field, models.JSONField):
        return _json_converter(field)
    if copy and isinstance(
        field,
        models.IntegerField
        | models.CharField
        | models.TextField
        | models.BooleanField
        | models.ForeignKey
        | models.DateTimeField,
    ):
        return _plain
    return lambda value: field.get_db_prep_save(value, connection)


def _default(field: models.Field[Any, Any], now: Any) -> Any:
    """What Model() would put in the column (auto_now/auto_now_add: now). A NOT NULL
    column without a default gets None here and fails loudly in the database."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (one tuple per row, values in the order of `fields`, which may be
    field names or attnames such as "dispatch_id") into `model`'s table. Columns not in
    `fields` get the model's default (auto_now/auto_now_add: now). One statement.
    Returns the number of rows written."""
    concrete = [
        f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, AutoFieldMixin))
    ]
    by_name = {f.name: f for f in concrete} | {f.attname: f for f in concrete}
    given = [by_name[name] for name in fields]
    rest = [f for f in concrete if f not in given]
    copy = connection.vendor == "postgresql"
    converters = [_converter(f, copy=copy) for f in given]
    now = timezone.now()
    fixed = tuple(_converter(f, copy=copy)(_default(f, now)) for f in rest)
    columns = [str(f.column) for f in given + rest]
    prepared = [
        (*(convert(value) for convert, value in zip(converters, row, strict=True)), *fixed) for row in rows
    ]
    if not prepared:
        return 0
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    column_list = ", ".join(qn(c) for c in columns)
    connection.ensure_connection()
    if copy:
        sql = f"COPY {table} ({column_list}) FROM STDIN"
        started = time.monotonic()
        # The psycopg cursor under Django's wrapper; errors still become Django's
        # (IntegrityError and friends), as they would through the wrapper.
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(sql) as copier,
        ):
            for row in prepared:
                copier.write_row(row)
        if connection.queries_logged:
            # COPY bypasses Django's cursor wrapper: log it like one statement, so query
            # counts pinned in tests are the same on PostgreSQL and SQLite.
            connection.queries_log.append(
                {"sql": f"{sql} -- {len(prepared)} rows", "time": f"{time.monotonic() - started:.3f}"}
            )
    else:
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", prepared)  # noqa: S608 - identifiers from _meta
    return len(prepared)
