"""INSERT … ON CONFLICT DO NOTHING for both supported databases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

#: SQLite allows at most 32,766 bound parameters per statement.
_MAX_PARAMS = 30000


def insert_new(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], key: Column[Any]
) -> set[Any]:
    """Insert ``rows``, skipping those whose unique ``key`` already exists.

    Returns the keys that were new. One statement per chunk, so a batch of a
    thousand ids costs one round trip rather than a thousand.
    """
    if not rows:
        return set()
    dialect = connection.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    chunk = max(1, _MAX_PARAMS // max(1, len(rows[0])))
    new: set[Any] = set()
    for start in range(0, len(rows), chunk):
        statement = (
            insert(table)
            .values(list(rows[start : start + chunk]))
            .on_conflict_do_nothing(index_elements=[key.name])
            .returning(key)
        )
        new.update(connection.execute(statement).scalars())
    return new
