"""Read models of the backup service's events: backups and the archive registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from services.gateway.adapters.tables import archive_view, backups_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event

#: A later stage never gives way to an earlier one, whatever order events arrive in.
RANK = {"requested": 0, "completed": 1, "failed": 2, "verified": 2, "damaged": 2,
        "pruned": 3}


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def apply_backup_events(connection: Connection, events: list[Event]) -> None:
    for event in events:
        data = event.data
        backup_id = str(data.get("backup_id") or "")
        if not backup_id:
            continue
        values: dict[str, Any]
        if event.type == "backup.completed":
            values = {"status": "completed", "key": data.get("key"),
                      "events": data.get("events"), "bytes": data.get("bytes"),
                      "sha256": data.get("sha256"), "time_range": data.get("time_range"),
                      "created_at": _when(data.get("created_at"))}
        elif event.type == "backup.verified":
            values = {"status": "verified" if data.get("ok") else "damaged",
                      "verified_at": _when(data.get("verified_at")),
                      "problems": data.get("problems") or [], "key": data.get("key")}
        elif event.type == "backup.failed":
            values = {"status": "failed", "problems": [str(data.get("error") or "")]}
        elif event.type == "backup.pruned":  # retention deleted the archive: no file left
            values = {"status": "pruned"}
        else:
            continue
        values = {k: v for k, v in values.items() if v is not None}
        connection.execute(conflict_insert(connection, backups_view).values(
            id=backup_id, scope=event.school_id, kind=str(data.get("kind") or "daily"),
            status="requested", requested_at=event.occurred_at,
        ).on_conflict_do_nothing(index_elements=["id"]))
        current = connection.execute(select(backups_view.c.status).where(
            backups_view.c.id == backup_id)).scalar_one()
        if RANK[values["status"]] < RANK.get(current, 0):
            values.pop("status")  # a late "completed" after "verified"
        if data.get("kind"):
            values["kind"] = str(data["kind"])
        connection.execute(update(backups_view).where(backups_view.c.id == backup_id)
                           .values(**values))


def apply_archive_events(connection: Connection, events: list[Event]) -> None:
    for event in events:
        data = event.data
        connection.execute(conflict_insert(connection, archive_view).values(
            job_id=str(data["job_id"]), school_id=event.school_id,
            academic_year=str(data["academic_year"]), number=int(data["number"]),
            registry_number=str(data["registry_number"]), class_id=str(data["class_id"]),
            pages=int(data["pages"]), sha256=str(data["sha256"]), pdf_key=str(data["pdf_key"]),
            registered_at=datetime.fromisoformat(data["registered_at"]),
            responsible=str(data["responsible"]),
        ).on_conflict_do_nothing(index_elements=["job_id"]))


def record_backup_request(engine: Engine, *, backup_id: str, scope: str, requested_by: str,
                   now: datetime) -> None:
    """A backup the API asked for, ``requested`` until the backup service announces it."""
    with engine.begin() as connection:
        connection.execute(insert(backups_view).values(
            id=backup_id, scope=scope, kind="manual", status="requested",
            requested_by=requested_by, requested_at=now))
