"""The print jobs read model: print.completed / print.failed / print.progress from the
printer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, or_, select, update

from services.gateway.adapters import command_slots
from services.gateway.adapters.tables import print_jobs_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event


def apply_print_events(connection: Connection, events: list[Event]) -> None:
    """A pending job becomes completed (or failed); a job the printer ran itself is added."""
    for event in events:
        data = event.data
        job_id = str(data.get("job_id") or "")
        if not job_id:
            continue
        if event.type == "print.progress":  # only while pending; a late one changes nothing
            connection.execute(update(print_jobs_view).where(
                print_jobs_view.c.id == job_id, print_jobs_view.c.status == "pending",
                or_(print_jobs_view.c.documents_done.is_(None),
                    print_jobs_view.c.documents_done < int(data.get("done") or 0)),
            ).values(documents_done=int(data.get("done") or 0),
                     documents_total=int(data.get("total") or 0)))
            continue
        if event.type == "print.completed":
            documents = data.get("documents")
            values: dict[str, Any] = {
                "status": "completed", "file_key": data.get("file_key"),
                "sha256": data.get("sha256"), "pages": data.get("pages"),
                "bytes": data.get("bytes"), "error": None, "finished_at": event.occurred_at,
                "documents_done": documents, "documents_total": documents}
        else:
            values = {"status": "failed", "error": str(data.get("reason") or ""),
                      "finished_at": event.occurred_at}
        exists = connection.execute(select(print_jobs_view.c.id).where(
            print_jobs_view.c.id == job_id)).first()
        if exists is not None:
            connection.execute(update(print_jobs_view).where(print_jobs_view.c.id == job_id)
                               .values(**values))
            continue
        connection.execute(conflict_insert(connection, print_jobs_view).values(
            id=job_id, school_id=event.school_id, kind=str(data.get("kind") or ""),
            parameters=data.get("parameters") or {},
            requested_by=str(data.get("requested_by") or "schedule"),
            requested_at=event.occurred_at, **values,
        ).on_conflict_do_nothing(index_elements=["id"]))


def record_print_request(engine: Engine, *, job_id: str, school_id: str, kind: str,
                   parameters: dict[str, Any], requested_by: str, teacher_id: str | None,
                   now: datetime) -> str | None:
    """Record an API request as a ``pending`` job and take the school's slot for its kind,
    in one transaction: None when recorded, else the id of the job holding the slot
    (nothing recorded). ``teacher_id``: the teacher who asked, who alone sees the job."""
    with engine.begin() as connection:
        holder = command_slots.take(connection, school_id, f"print:{kind}", job_id, now)
        if holder is not None:
            return holder
        connection.execute(insert(print_jobs_view).values(
            id=job_id, school_id=school_id, kind=kind, status="pending",
            parameters=parameters, requested_by=requested_by, teacher_id=teacher_id,
            requested_at=now))
    return None


def withdraw_print_request(engine: Engine, job_id: str) -> None:
    """The job's command did not reach the broker: no job to wait for, and its slot free."""
    with engine.begin() as connection:
        connection.execute(delete(print_jobs_view).where(print_jobs_view.c.id == job_id))
        command_slots.release(connection, [job_id])
