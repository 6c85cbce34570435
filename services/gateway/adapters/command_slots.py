"""Heavy commands in flight: one slot per school and kind (backups, print jobs and
reports of one kind). The year-end archive needs none: the backup service coalesces it.

A request takes the slot in one statement (``INSERT … ON CONFLICT DO UPDATE``
only where the holder is stale), so two concurrent requests cannot both get
it; the read model frees it when the result comes back, and a holder whose
result never came is stale after the kind's hold time, so nothing stays
blocked for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select

from services.gateway.adapters.tables import command_slots
from shared.db.inserts import conflict_insert

#: How long a request may hold its slot at most (its result may never come back).
HOLD = {
    "backup": timedelta(hours=2),
    "print": timedelta(minutes=10),
    "report": timedelta(minutes=5),
}


def take(connection: Connection, school_id: str, kind: str, request_id: str,
         now: datetime) -> str | None:
    """Take the slot for ``request_id``: None when it is now this request's, else the id
    of the request that holds it."""
    hold = HOLD[kind.split(":", 1)[0]]
    statement = conflict_insert(connection, command_slots).values(
        school_id=school_id, kind=kind, request_id=request_id, taken_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["school_id", "kind"],
        set_={"request_id": statement.excluded.request_id,
              "taken_at": statement.excluded.taken_at},
        where=command_slots.c.taken_at < now - hold).returning(command_slots.c.request_id)
    if connection.execute(statement).first() is not None:  # inserted, or a stale one replaced
        return None
    holder = connection.execute(select(command_slots.c.request_id).where(
        command_slots.c.school_id == school_id, command_slots.c.kind == kind)).scalar()
    return str(holder) if holder is not None else request_id


def release(connection: Connection, request_ids: Sequence[str]) -> None:
    """The results of these requests came back: their slots are free."""
    if request_ids:
        connection.execute(delete(command_slots).where(
            command_slots.c.request_id.in_(list(request_ids))))
