"""Freeing a heavy command's slot when its result comes back (issue 14, item 6)."""

from __future__ import annotations

from sqlalchemy import Connection

from services.gateway.adapters import command_slots
from shared.events.envelope import Event
from shared.events.messages import EVENTS

#: A result event → the field naming the request it answers. A backup is done when it
#: is verified (or found damaged) or failed; ``backup.completed`` still verifies.
FINISHING = {
    "report.ready": "report_id", "report.failed": "report_id",
    "print.completed": "job_id", "print.failed": "job_id",
    "backup.verified": "backup_id", "backup.failed": "backup_id",
}


def free_slots(connection: Connection, events: list[Event]) -> None:
    """The slots of the requests these result events finish (after their read models)."""
    command_slots.release(connection, [
        str(getattr(EVENTS[event.type].from_data(event.data), FINISHING[event.type]) or "")
        for event in events if event.type in FINISHING])
