"""The print jobs read model: print.completed / print.failed / print.progress from the
printer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from services.gateway.adapters import command_slots
from services.gateway.adapters.tables import print_jobs_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import PrintCompleted, PrintFailed, PrintProgress


def apply_print_events(connection: Connection, events: list[Event]) -> None:
    """A pending job becomes completed (or failed); a job the printer ran itself is added."""
    for event in events:
        if event.type == "print.progress":  # only while pending; a late one changes nothing
            progress = PrintProgress.from_data(event.data)
            if progress.job_id:
                connection.execute(update(print_jobs_view).where(
                    print_jobs_view.c.id == progress.job_id,
                    print_jobs_view.c.status == "pending",
                    or_(print_jobs_view.c.documents_done.is_(None),
                        print_jobs_view.c.documents_done < progress.done),
                ).values(documents_done=progress.done, documents_total=progress.total))
            continue
        job: PrintCompleted | PrintFailed
        if event.type == "print.completed":
            job = completed = PrintCompleted.from_data(event.data)
            values: dict[str, Any] = {
                "status": "completed", "file_key": completed.file_key,
                "sha256": completed.sha256, "pages": completed.pages,
                "bytes": completed.bytes, "error": None, "finished_at": event.occurred_at,
                "documents_done": completed.documents, "documents_total": completed.documents}
            parameters = completed.parameters
            requested_by = completed.requested_by
        else:
            job = failed = PrintFailed.from_data(event.data)
            values = {"status": "failed", "error": failed.reason,
                      "finished_at": event.occurred_at}
            parameters, requested_by = {}, None
        if not job.job_id:
            continue
        exists = connection.execute(select(print_jobs_view.c.id).where(
            print_jobs_view.c.id == job.job_id)).first()
        if exists is not None:
            connection.execute(update(print_jobs_view).where(
                print_jobs_view.c.id == job.job_id).values(**values))
            continue
        connection.execute(conflict_insert(connection, print_jobs_view).values(
            id=job.job_id, school_id=event.school_id, kind=job.kind, parameters=parameters,
            requested_by=requested_by or "schedule", requested_at=event.occurred_at, **values,
        ).on_conflict_do_nothing(index_elements=["id"]))


def record_print_request(connection: Connection, *, job_id: str, school_id: str, kind: str,
                         parameters: dict[str, Any], requested_by: str, teacher_id: str | None,
                         now: datetime) -> str | None:
    """Record an API request as a ``pending`` job and take the school's slot for its kind,
    in the caller's transaction (which records its command too): None when recorded, else
    the id of the job holding the slot (nothing recorded). ``teacher_id``: the teacher who
    asked, who alone sees the job."""
    holder = command_slots.take(connection, school_id, f"print:{kind}", job_id, now)
    if holder is not None:
        return holder
    connection.execute(insert(print_jobs_view).values(
        id=job_id, school_id=school_id, kind=kind, status="pending", parameters=parameters,
        requested_by=requested_by, teacher_id=teacher_id, requested_at=now))
    return None
