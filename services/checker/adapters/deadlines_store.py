"""The deadline index: per school, when its findings can next change by time alone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from services.checker.adapters.tables import deadlines
from shared.db.inserts import conflict_insert


def keep(connection: Connection, school_id: str, due_at: datetime | None) -> None:
    """Record the school's next moment (None: nothing left to fall due)."""
    if due_at is None:
        connection.execute(delete(deadlines).where(deadlines.c.school_id == school_id))
        return
    # In UTC: SQLite compares the stored text, which must not mix time zones.
    statement = conflict_insert(connection, deadlines).values(school_id=school_id,
                                                              due_at=due_at.astimezone(UTC))
    connection.execute(statement.on_conflict_do_update(
        index_elements=["school_id"], set_={"due_at": statement.excluded.due_at}))


def due(connection: Connection, now: datetime) -> list[str]:
    """The schools whose moment has come by ``now`` (an index range scan)."""
    return list(connection.execute(select(deadlines.c.school_id).where(
        deadlines.c.due_at <= now).order_by(deadlines.c.due_at)).scalars())
