"""INSERT … ON CONFLICT DO NOTHING … RETURNING for both supported databases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_new(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], key: Column[Any]
) -> set[Any]:
    """Insert ``rows``, skipping those whose unique ``key`` already exists.

    Returns the keys that were new. The statement is executed with the rows as
    parameters (SQLAlchemy's "insertmanyvalues" batching), so it is compiled
    once and cached: building one literal VALUES list per call cost more than
    the database's own work for a batch of a thousand ids (bench/gateway_intake.py).
    """
    if not rows:
        return set()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=[key.name]).returning(key)
    return set(connection.execute(statement, list(rows)).scalars())
