"""Experiment: ``kozomol`` with the gateway's id INSERT done through ``unnest`` arrays.

Not a fix (nothing in the project changes): a launcher that swaps
``insert_new`` inside the gateway's intake for one statement whose parameters
are one array per column, then runs the ``kozomol`` command line as usual.
It shows what the gateway's batched intake would gain::

    .venv/bin/python bench/gateway_intake.py --no-docs \\
        --launcher bench/experiments/unnest_insert_gateway.py

On SQLite (the embedded default) the original function is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table

from services.gateway.handlers import intake
from shared.db import inserts

_original = inserts.insert_new


def insert_new_unnest(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], key: Column[Any]
) -> set[Any]:
    """``INSERT … SELECT * FROM unnest(%s::type[], …) ON CONFLICT DO NOTHING RETURNING key``."""
    if not rows or connection.dialect.name != "postgresql":
        return _original(connection, table, rows, key)
    columns = [table.c[name] for name in rows[0]]
    casts = ", ".join(f"%s::{column.type.compile(connection.dialect)}[]" for column in columns)
    statement = (
        f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) "  # noqa: S608
        f"SELECT * FROM unnest({casts}) "
        f"ON CONFLICT ({key.name}) DO NOTHING RETURNING {key.name}"
    )
    arrays = tuple([row[column.name] for row in rows] for column in columns)
    return set(connection.exec_driver_sql(statement, arrays).scalars())


intake.insert_new = insert_new_unnest  # type: ignore[assignment]

if __name__ == "__main__":
    from kozomol.cli import main

    main()
