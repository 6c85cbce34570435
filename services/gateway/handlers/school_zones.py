"""Each school's time zone from its ``school.calendar`` events (the newest wins, any order).

The console shows moments in the school's own time, as the printer and the checker read
the same calendar (Asia/Bishkek when the calendar names none).
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import Connection

from services.gateway.adapters.tables import school_zones_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event

DEFAULT_ZONE = "Asia/Bishkek"


def apply_zone_events(connection: Connection, events: list[Event]) -> None:
    for event in events:
        if event.type != "school.calendar":
            continue
        stamp = f"{event.occurred_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}|{event.id}"
        zone = str(event.data.get("timezone") or DEFAULT_ZONE)[:64]
        statement = conflict_insert(connection, school_zones_view).values(
            school_id=event.school_id, timezone=zone, stamp=stamp)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["school_id"],
            set_={"timezone": statement.excluded.timezone, "stamp": statement.excluded.stamp},
            where=school_zones_view.c.stamp < statement.excluded.stamp))
