"""Homeroom teachers from class.roster: the only part of a roster the gateway keeps."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import Connection

from services.gateway.adapters.tables import classes_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event


def apply_roster_events(connection: Connection, events: list[Event]) -> None:
    """Keep each class's homeroom teacher from its newest roster (order-independent)."""
    for event in events:
        # A fixed-width UTC time then the id: compares as the events' order does.
        stamp = f"{event.occurred_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}|{event.id}"
        statement = conflict_insert(connection, classes_view).values(
            school_id=event.school_id, class_id=event.data["class_id"],
            homeroom_teacher_id=event.data.get("homeroom_teacher_id"), stamp=stamp)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["school_id", "class_id"],
            set_={"homeroom_teacher_id": statement.excluded.homeroom_teacher_id,
                  "stamp": statement.excluded.stamp},
            where=classes_view.c.stamp < statement.excluded.stamp))
