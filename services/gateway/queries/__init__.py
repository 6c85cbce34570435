"""The gateway's reads: one module per read model, used by the API's and the console's views.

A query function takes a ``Source`` (an engine, or a connection the caller already
holds) and plain arguments (a school filter, paging), and returns plain rows,
dicts or dataclasses. Views shape these into HTTP answers and hold no SQL; the
tables are written only by the handlers (``services/gateway/handlers/``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping

#: Where a query reads: the engine (it opens its own connection) or an open connection.
Source = Engine | Connection


@contextmanager
def reading(source: Source) -> Iterator[Connection]:
    """A connection to read with: the caller's own, or a new one from the engine."""
    if isinstance(source, Connection):
        yield source
        return
    with source.connect() as connection:
        yield connection


def mapping(row: Any) -> RowMapping | None:
    """A row as a read-only mapping (columns by name), or None when there is no row."""
    return row._mapping if row is not None else None
