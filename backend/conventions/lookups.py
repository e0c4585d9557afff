"""`field__any=[…]`: membership in a long list of values as one array parameter.

`field__in=[…]` with thousands of values renders thousands of placeholders; building
and parsing them (Django's per-value preparation, psycopg's client-side query split)
was a visible share of a 5,000-recipient fan-out in bench/. On PostgreSQL `__any`
renders `field = ANY(%s::<type>[])` with the list as a single parameter; elsewhere it
is the same as `__in`. The values must already be of the column's type (ids)."""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):  # type: ignore[type-arg]
    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        if connection.vendor != "postgresql":
            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, list(self.rhs)]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # related fields keep their own lookup table
