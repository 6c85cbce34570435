"""Read models of the backup service's events: backups and the archive registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from services.gateway.adapters import command_slots
from services.gateway.adapters.tables import archive_view, backups_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import (
    ArchiveRegistered,
    BackupCompleted,
    BackupFailed,
    BackupPruned,
    BackupVerified,
)

#: A later stage never gives way to an earlier one, whatever order events arrive in.
RANK = {"requested": 0, "completed": 1, "failed": 2, "verified": 2, "damaged": 2,
        "pruned": 3}


def apply_backup_events(connection: Connection, events: list[Event]) -> None:
    for event in events:
        values: dict[str, Any]
        kind: str | None
        if event.type == "backup.completed":
            completed = BackupCompleted.from_data(event.data)
            backup_id, kind = completed.backup_id, completed.kind
            values = {"status": "completed", "key": completed.key, "events": completed.events,
                      "bytes": completed.bytes, "sha256": completed.sha256,
                      "time_range": completed.time_range, "created_at": completed.created_at}
        elif event.type == "backup.verified":
            verified = BackupVerified.from_data(event.data)
            backup_id, kind = verified.backup_id, None
            values = {"status": "verified" if verified.ok else "damaged",
                      "verified_at": verified.verified_at, "problems": verified.problems,
                      "key": verified.key}
        elif event.type == "backup.failed":
            failed = BackupFailed.from_data(event.data)
            backup_id, kind = failed.backup_id, failed.kind
            values = {"status": "failed", "problems": [failed.error]}
        elif event.type == "backup.pruned":  # retention deleted the archive: no file left
            backup_id, kind = BackupPruned.from_data(event.data).backup_id, None
            values = {"status": "pruned"}
        else:
            continue
        if not backup_id:
            continue
        values = {k: v for k, v in values.items() if v is not None}
        connection.execute(conflict_insert(connection, backups_view).values(
            id=backup_id, scope=event.school_id, kind=kind or "daily",
            status="requested", requested_at=event.occurred_at,
        ).on_conflict_do_nothing(index_elements=["id"]))
        current = connection.execute(select(backups_view.c.status).where(
            backups_view.c.id == backup_id)).scalar_one()
        if RANK[values["status"]] < RANK.get(current, 0):
            values.pop("status")  # a late "completed" after "verified"
        if kind:
            values["kind"] = kind
        connection.execute(update(backups_view).where(backups_view.c.id == backup_id)
                           .values(**values))


def apply_archive_events(connection: Connection, events: list[Event]) -> None:
    for event in events:
        entry = ArchiveRegistered.from_data(event.data)
        connection.execute(conflict_insert(connection, archive_view).values(
            job_id=entry.job_id, school_id=event.school_id,
            academic_year=entry.academic_year, number=entry.number,
            registry_number=entry.registry_number, class_id=entry.class_id,
            pages=entry.pages, sha256=entry.sha256, pdf_key=entry.pdf_key,
            registered_at=entry.registered_at, responsible=entry.responsible,
        ).on_conflict_do_nothing(index_elements=["job_id"]))


def record_backup_request(connection: Connection, *, backup_id: str, scope: str,
                          requested_by: str, now: datetime) -> str | None:
    """A backup the API asked for, ``requested`` until the backup service announces it,
    with the scope's backup slot taken, in the caller's transaction (which records its
    command too): None when recorded, else the id of the backup holding the slot."""
    holder = command_slots.take(connection, scope, "backup", backup_id, now)
    if holder is not None:
        return holder
    connection.execute(insert(backups_view).values(
        id=backup_id, scope=scope, kind="manual", status="requested",
        requested_by=requested_by, requested_at=now))
    return None
