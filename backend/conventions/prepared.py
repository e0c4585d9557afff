"""Querysets compiled to SQL once per process, for the hottest reads of the API.

Building a queryset with subqueries and compiling it costs far more CPU than running
it: the one read a check-in needs (bench/ `checkin_burst`: the campaign, the student's
class in it, the guardianship, an earlier check-in with the same client_id) took ~2 ms
of CPU to build and compile and ~0.2 ms in PostgreSQL. A `PreparedQuery` builds its
queryset once with stand-in values, compiles it, remembers which SQL parameters are
which argument, and from then on only binds the arguments and runs the SQL. The query
is still written with the ORM, the apps' selectors and their scopes; only the
compilation is cached (per database alias and vendor).

Only arguments that Django passes as SQL parameters can be prepared (ints and strings
compared in WHERE clauses); compiling refuses a queryset in which a stand-in value ended
up in the SQL text or went missing, so a shape that does not fit fails loudly on first
use instead of running the wrong query. Every other value in the queryset is frozen at
the first call: `build` must depend on its arguments only (no clock, no settings, no
other rows read while building)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# Stand-ins: values no real argument has, distinct per argument.
_INT_BASE = -(2**62) + 7919
_STR_MARK = "\x1fprepared:{}\x1f"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class PreparedQuery(Generic[M]):
    """`build(**arguments) -> QuerySet` compiled once; `first(**arguments)` runs it.

    `arguments` names each argument and its type (int or str)."""

    def __init__(
        self, build: Callable[..., QuerySet[M]], arguments: dict[str, type], using: str = "default"
    ) -> None:
        self.build = build
        self.arguments = arguments
        self.using = using
        self._compiled: dict[str, _Compiled[M]] = {}
        self._lock = threading.Lock()

    def _stand_ins(self) -> dict[str, int | str]:
        values: dict[str, int | str] = {}
        for index, (name, kind) in enumerate(self.arguments.items()):
            if kind is int:
                values[name] = _INT_BASE - index
            elif kind is str:
                values[name] = _STR_MARK.format(name)
            else:
                raise TypeError(f"PreparedQuery: argument {name} must be int or str, not {kind}")
        return values

    def _compile(self) -> _Compiled[M]:
        vendor = connections[self.using].vendor
        compiled = self._compiled.get(vendor)
        if compiled is not None:
            return compiled
        with self._lock:
            stand_ins = self._stand_ins()
            queryset = self.build(**stand_ins)[:1]
            sql, params = queryset.query.get_compiler(using=self.using).as_sql()
            by_value = {(type(value), value): name for name, value in stand_ins.items()}
            # Each parameter is an argument (by name) or a constant of the query (a role,
            # a flag), kept as compiled.
            slots: list[tuple[str | None, Any]] = [
                (by_value.get((type(param), param)), param) for param in params
            ]
            bound = {name for name, _ in slots if name is not None}
            missing = [name for name in stand_ins if name not in bound]
            inlined = [name for name, value in stand_ins.items() if str(value) in sql]
            if missing or inlined:
                raise ValueError(f"PreparedQuery: {missing + inlined} are not plain SQL parameters of {sql}")
            compiled = _Compiled(model=queryset.model, sql=sql, slots=slots)
            self._compiled[vendor] = compiled
            return compiled

    def first(self, **arguments: int | str) -> M | None:
        """The first row of the queryset built with `arguments` (annotations become
        attributes, as with the queryset itself), or None."""
        for name, kind in self.arguments.items():
            value = arguments[name]
            if type(value) is not kind:
                raise TypeError(f"PreparedQuery: {name} must be {kind.__name__}, not {type(value).__name__}")
            if kind is int and not _INT64_MIN <= int(value) <= _INT64_MAX:
                # No 64-bit column holds it: the ORM answers that (no rows), not the
                # database driver (an error).
                return self._run_orm(arguments)
        compiled = self._compile()
        params = [arguments[name] if name is not None else constant for name, constant in compiled.slots]
        for row in compiled.model._default_manager.db_manager(self.using).raw(compiled.sql, params):
            return row
        return None

    def _run_orm(self, arguments: dict[str, int | str]) -> M | None:
        for row in self.build(**arguments)[:1]:
            return row
        return None


class _Compiled(Generic[M]):
    __slots__ = ("model", "slots", "sql")

    def __init__(self, *, model: type[M], sql: str, slots: list[tuple[str | None, Any]]) -> None:
        self.model = model
        self.sql = sql
        self.slots = slots
