"""Recording received event ids in ``gateway_received_events``, new ones only.

On PostgreSQL one ``INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO NOTHING
RETURNING`` takes the whole delivery (or group of deliveries) as three array
parameters: for 1,000 ids it cost 4 ms of the gateway's CPU, against 30 ms for
SQLAlchemy's insertmanyvalues (``bench/profile_intake.py --insert-variants``).
SQLite (the embedded default) keeps the generic ``insert_new``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from services.gateway.adapters.tables import received_events
from shared.db.inserts import insert_new

TYPE_LENGTH = 100  # gateway_received_events.type, String(100) in tables.py

_UNNEST = text(
    "INSERT INTO gateway_received_events (event_id, school_id, type, received_at, stored_in)"
    " SELECT u.id, u.school, u.type, :now, 'broker'"
    " FROM unnest(CAST(:ids AS text[]), CAST(:schools AS text[]), CAST(:types AS text[]))"
    " AS u(id, school, type)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)


def recorded_type(event: dict[str, Any]) -> str:
    """The event type as the id table keeps it: the contract does not bound a type's
    length, the column does (100); the row only tells an id's type to people, so a longer
    (unknown) type is cut rather than failing the INSERT. Failing it would send the
    delivery down the no-database path and leave a spool line that never fits."""
    event_type: str = event["type"]
    return event_type[:TYPE_LENGTH]


def record_new(
    connection: Connection, events: Sequence[dict[str, Any]], now: datetime
) -> set[str]:
    """Insert the events' ids (``stored_in`` = broker); return those that were new.

    The ids are inserted in sorted order, so two transactions inserting some of
    the same ids lock them in the same order and cannot deadlock.
    """
    if not events:
        return set()
    ordered = sorted(events, key=lambda event: str(event["id"]))
    if connection.dialect.name == "postgresql":
        result = connection.execute(_UNNEST, {
            "now": now,
            "ids": [event["id"] for event in ordered],
            "schools": [event["school_id"] for event in ordered],
            "types": [recorded_type(event) for event in ordered],
        })
        return set(result.scalars())
    return insert_new(
        connection, received_events,
        [{"event_id": event["id"], "school_id": event["school_id"], "type": recorded_type(event),
          "received_at": now, "stored_in": "broker"} for event in ordered],
        received_events.c.event_id,
    )
