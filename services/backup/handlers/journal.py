"""The consumer side: every event into the journal record, backup requests, and the
year-end archive registry (ask the printer for each class journal, register what it printed)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

import orjson
from sqlalchemy import Connection, delete, insert, select

from services.backup.adapters import journal_store
from services.backup.adapters.announce import announce
from services.backup.adapters.tables import (
    archive_registry,
    archive_requests,
    backups,
    journal,
)
from services.backup.domain.registry import ArchiveEntry, next_number
from services.backup.handlers.context import COMMANDS, PRINT_REQUEST
from shared.events.envelope import Event
from shared.events.messages import (
    ALL_SCHOOLS,
    ArchiveYearEnd,
    BackupCreate,
    PrintCompleted,
    PrintFailed,
    new_backup_id,
)

log = logging.getLogger(__name__)


def append_to_journal(connection: Connection, events: list[Event]) -> None:
    """Every event enters the journal record; commands are not events and do not."""
    recorded = [event for event in events if event.type not in COMMANDS]
    if recorded:
        journal_store.append(connection, recorded)


def request_backups(connection: Connection, commands: list[Event]) -> None:
    """``backup.create``: record the request; the scheduler makes the backup."""
    now = datetime.now(UTC)
    for command in commands:
        request = BackupCreate.from_data(command.data)
        scope = request.scope or command.school_id or ALL_SCHOOLS
        connection.execute(insert(backups).values(
            id=request.backup_id or new_backup_id(), scope=scope, kind="manual",
            status="requested", requested_by=request.requested_by, requested_at=now))


def start_year_end(connection: Connection, commands: list[Event]) -> None:
    """``archive.year_end``: ask the printer for every class journal of the year."""
    now = datetime.now(UTC)
    for command in commands:
        request = ArchiveYearEnd.from_data(command.data)
        request_class_journals(connection, command.school_id, request.academic_year,
                               request.requested_by, now, only=request.class_ids)


def request_class_journals(connection: Connection, school_id: str, year: str, who: str,
                           now: datetime, *, only: Iterable[str] | None = None) -> list[str]:
    """Print requests for the classes of ``year`` not yet requested; returns their job ids."""
    wanted = set(only) if only else None
    classes = sorted(c for c in classes_of(connection, school_id, year)
                     if wanted is None or c in wanted)
    done = set(connection.execute(select(archive_requests.c.class_id).where(
        archive_requests.c.school_id == school_id,
        archive_requests.c.academic_year == year)).scalars())
    jobs = []
    for class_id in classes:
        if class_id in done:
            continue
        job_id = f"arc-{secrets.token_hex(12)}"
        connection.execute(insert(archive_requests).values(
            job_id=job_id, school_id=school_id, class_id=class_id, academic_year=year,
            requested_by=who, requested_at=now))
        announce(connection, PRINT_REQUEST, school_id,
                 {"job_id": job_id, "kind": "class_journal",
                  "parameters": {"class_id": class_id, "year": year}, "requested_by": who},
                 now, to="printer")
        jobs.append(job_id)
    return jobs


def classes_of(connection: Connection, school_id: str, year: str) -> set[str]:
    """Classes with a roster for ``year`` in the school's journal record."""
    found = set()
    for body in connection.execute(select(journal.c.body).where(
            journal.c.school_id == school_id, journal.c.type == "class.roster")).scalars():
        data = orjson.loads(bytes(body)).get("data") or {}
        if data.get("academic_year") == year and data.get("class_id"):
            found.add(str(data["class_id"]))
    return found


def register_printed(connection: Connection, events: list[Event]) -> None:
    """``print.completed`` of a class journal we asked for: a new registry entry."""
    for event in events:
        printed = PrintCompleted.from_data(event.data)
        job_id = printed.job_id
        request = connection.execute(select(archive_requests).where(
            archive_requests.c.job_id == job_id)).first()
        if request is None or connection.execute(select(archive_registry.c.id).where(
                archive_registry.c.job_id == job_id)).first() is not None:
            continue  # not an archive print, or registered already
        numbers = connection.execute(select(archive_registry.c.number).where(
            archive_registry.c.school_id == request.school_id,
            archive_registry.c.academic_year == request.academic_year)).scalars().all()
        entry = ArchiveEntry(
            number=next_number(numbers), school_id=request.school_id,
            class_id=request.class_id, academic_year=request.academic_year,
            pages=printed.pages or 0, sha256=printed.sha256 or "",
            pdf_key=printed.file_key or "", job_id=job_id,
            registered_at=event.occurred_at, responsible=request.requested_by)
        add_registry_entry(connection, entry)
        now = datetime.now(UTC)
        announce(connection, "archive.registered", entry.school_id, entry.as_data(), now)


def forget_failed_prints(connection: Connection, events: list[Event]) -> None:
    """``print.failed`` of an archive print: drop the request, so that asking for the
    year-end archive again retries that class (the registry itself is untouched)."""
    for event in events:
        failed = PrintFailed.from_data(event.data)
        if connection.execute(delete(archive_requests).where(
                archive_requests.c.job_id == failed.job_id)).rowcount:
            log.warning("a class journal for the archive was not printed; ask again",
                        extra={"job_id": failed.job_id, "reason": failed.reason})


def add_registry_entry(connection: Connection, entry: ArchiveEntry) -> None:
    """The only write to the registry: an insert (the database refuses changes)."""
    connection.execute(insert(archive_registry).values(
        school_id=entry.school_id, academic_year=entry.academic_year, number=entry.number,
        class_id=entry.class_id, pages=entry.pages, sha256=entry.sha256,
        pdf_key=entry.pdf_key, job_id=entry.job_id, registered_at=entry.registered_at,
        responsible=entry.responsible))


def registry(connection: Connection, school_id: str | None = None) -> list[ArchiveEntry]:
    query = select(archive_registry).order_by(archive_registry.c.school_id,
                                              archive_registry.c.academic_year,
                                              archive_registry.c.number)
    if school_id is not None:
        query = query.where(archive_registry.c.school_id == school_id)
    return [ArchiveEntry(number=r.number, school_id=r.school_id, class_id=r.class_id,
                         academic_year=r.academic_year, pages=r.pages, sha256=r.sha256,
                         pdf_key=r.pdf_key, job_id=r.job_id, registered_at=r.registered_at,
                         responsible=r.responsible)
            for r in connection.execute(query)]
