"""Operations shared by migrations."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def drop_redundant_fk_indexes(
    *, state_operations: list[Any], table: str, indexes: dict[str, str]
) -> migrations.SeparateDatabaseAndState:
    """Stop indexing foreign keys on their own (`db_index=False` in `state_operations`)
    where a composite index or unique constraint already leads with the column: only the
    DROP INDEX reaches the database (Django's AlterField would also drop and re-validate
    the foreign-key constraint on PostgreSQL and rebuild the table on SQLite).
    `indexes` maps each index name to its column; reversing creates them again."""
    return migrations.SeparateDatabaseAndState(
        state_operations=state_operations,
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{name}"',
                reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
            )
            for name, column in indexes.items()
        ],
    )
