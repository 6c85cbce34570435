"""INSERT … ON CONFLICT for both supported databases (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

from shared.db.engine import is_postgresql


def conflict_insert(bind: Connection | Engine, table: Table) -> Any:
    """``INSERT INTO table`` of the bind's dialect, which has ``on_conflict_do_nothing``,
    ``on_conflict_do_update`` and ``excluded`` (the generic ``insert`` has none)."""
    insert = postgresql.insert if is_postgresql(bind) else sqlite.insert
    return insert(table)


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
    statement = conflict_insert(connection, table).on_conflict_do_nothing(
        index_elements=[key.name]).returning(key)
    return set(connection.execute(statement, list(rows)).scalars())
