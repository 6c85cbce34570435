"""Names from the contract events (school, class, teacher, subject) for the API's listings.

The newest event of each entity wins (any order, any duplicates); an event that
carries no name (a sender of contract v1.0) changes nothing, so ids stand in.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import Connection

from services.gateway.adapters.tables import names_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event


def names_of(event_type: str, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, entity id, name) that an event names (pure)."""
    match event_type:
        case "school.calendar" if data.get("school_name"):
            return [("school", "", str(data["school_name"]))]
        case "class.roster" if data.get("class_id"):
            grade, class_id = data.get("grade"), str(data["class_id"])
            name = data.get("class_name") or (
                class_id if grade is None or class_id.startswith(str(grade))
                else f"{grade} {class_id}")
            return [("class", class_id, str(name))]
        case "teacher.profile" if data.get("teacher_id") and data.get("full_name"):
            return [("teacher", str(data["teacher_id"]), str(data["full_name"]))]
        case "subject.plan" if data.get("subject_id") and data.get("subject_name"):
            return [("subject", str(data["subject_id"]), str(data["subject_name"]))]
    return []


def apply_name_events(connection: Connection, events: list[Event]) -> None:
    for event in events:
        stamp = f"{event.occurred_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}|{event.id}"
        for kind, entity_id, name in names_of(event.type, event.data):
            statement = conflict_insert(connection, names_view).values(
                school_id=event.school_id, kind=kind, entity_id=entity_id[:64],
                name=name[:300], stamp=stamp)
            connection.execute(statement.on_conflict_do_update(
                index_elements=["school_id", "kind", "entity_id"],
                set_={"name": statement.excluded.name, "stamp": statement.excluded.stamp},
                where=names_view.c.stamp < statement.excluded.stamp))
