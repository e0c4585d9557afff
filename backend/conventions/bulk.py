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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    # One encoder for every row: json.dumps(cls=…) builds a new one per call.
    encode = (field.encoder or json.JSONEncoder)(ensure_ascii=False).encode

    def convert(value: Any) -> Any:
        # None is SQL NULL, as bulk_create() stores it.
        return None if value is None else encode(value)

    return convert


def _converter(field: models.Field[Any, Any], *, copy: bool) -> Converter | None:
    """How one column's Python value becomes what the driver sends; None when it goes
    as it is. On PostgreSQL psycopg adapts ints, strings, booleans and aware datetimes
    itself (the callers pass timezone.now()-style values), and a JSON text loads into a
    jsonb column; every other case goes through the field."""
    if isinstance(field, models.JSONField):
        return _json_converter(field)
    if copy and isinstance(field, models.CharField | models.TextField):
        return _plain
    if copy and isinstance(
        field, models.IntegerField | models.BooleanField | models.ForeignKey | models.DateTimeField
    ):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def _convert(converter: Converter | None, value: Any) -> Any:
    return value if converter is None else converter(value)


def _default(field: models.Field[Any, Any], now: Any) -> Any:
    """What Model() would put in the column (auto_now/auto_now_add: now). A NOT NULL
    column without a default gets None here and fails loudly in the database."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()


def _prepared_rows(
    converters: Sequence[Converter | None], rows: Iterable[Sequence[Any]], fixed: tuple[Any, ...]
) -> list[tuple[Any, ...]]:
    """Rows as the driver takes them: converted where a column needs it, plus `fixed`."""
    width = len(converters)
    convert = [(i, c) for i, c in enumerate(converters) if c is not None]
    prepared: list[tuple[Any, ...]] = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"bulk_insert: a row has {len(row)} values for {width} columns")
        if convert:
            values = list(row)
            for i, c in convert:
                values[i] = c(values[i])
            prepared.append((*values, *fixed))
        else:
            prepared.append((*row, *fixed))
    return prepared


def bulk_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """Insert `rows` (one tuple per row, values in the order of `fields`, which may be
    field names or attnames such as "dispatch_id") into `model`'s table. Columns not in
    `fields` get `constants[name]` (the same value in every row, prepared once) or else
    the model's default (auto_now/auto_now_add: now). One statement.
    Returns the number of rows written."""
    concrete = [
        f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, AutoFieldMixin))
    ]
    by_name = {f.name: f for f in concrete} | {f.attname: f for f in concrete}
    given = [by_name[name] for name in fields]
    same = {by_name[name]: value for name, value in (constants or {}).items()}
    if any(f in same for f in given):
        raise ValueError("bulk_insert: a column is both in fields and in constants")
    rest = [f for f in concrete if f not in given]
    copy = connection.vendor == "postgresql"
    converters = [_converter(f, copy=copy) for f in given]
    now = timezone.now()
    fixed = tuple(
        _convert(_converter(f, copy=copy), same[f] if f in same else _default(f, now)) for f in rest
    )
    columns = [str(f.column) for f in given + rest]
    prepared = _prepared_rows(converters, rows, fixed)
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


def _column_of(field: Any) -> str:
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{field!r} is not a concrete column")
    return column


def insert_unless_exists(obj: models.Model, *, unique: Sequence[str]) -> bool:
    """INSERT `obj` unless a row with the same `unique` fields exists: one statement
    (`INSERT … ON CONFLICT (unique) DO NOTHING RETURNING pk`, PostgreSQL and SQLite ≥
    3.35), where get_or_create() costs a SELECT, a SAVEPOINT, the INSERT and a RELEASE.
    True when this call inserted it (obj.pk is set); False when the row exists (nothing
    written, the transaction still usable). A concurrent inserter's uncommitted row makes
    this wait for its outcome, as the unique index does for any INSERT.
    Like bulk_insert(): no signals; auto_now_add and defaults are filled as save() would."""
    meta = obj._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    conflict = ", ".join(qn(_column_of(meta.get_field(name))) for name in unique)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(_column_of(f)) for f in fields)}) "  # noqa: S608 - identifiers from _meta
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {qn(_column_of(meta.pk))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True
