"""The backup service's use cases: take events in, back up, verify, restore, prune,
and keep the year-end archive registry.

Long work (making, verifying, restoring a backup) runs outside the consumer's
transaction: a command only records a request, which the scheduler thread
carries out (``main.py: Scheduler``), or the CLI runs it directly.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import orjson
from sqlalchemy import Connection, Engine, create_engine, delete, insert, select, update
from sqlalchemy import event as sqlalchemy_event

from services.backup.adapters import journal_store
from services.backup.adapters.announce import announce
from services.backup.adapters.archive_io import (
    ArchiveRead,
    ProgressFn,
    bulk_insert,
    journal_entries,
    journal_is_empty,
    load_journal,
    manifest_for,
    pack_to,
    read_archive,
    write_members,
)
from services.backup.adapters.export import to_csv, to_xlsx
from services.backup.adapters.tables import (
    archive_registry,
    archive_requests,
    backups,
    inbox,
    journal,
    journal_head,
    metadata,
)
from services.backup.domain.archive import (
    CHAIN,
    EVENTS,
    ArchiveDamaged,
    ChainCheck,
    JournalEntry,
    Manifest,
    archive_key,
    check_journal,
    compare_members,
    parse_journal,
)
from services.backup.domain.class_journal import build as build_class_journal
from services.backup.domain.derived import TableFolder
from services.backup.domain.journal import GENESIS
from services.backup.domain.registry import ArchiveEntry, next_number
from services.backup.domain.retention import FOREVER, Retention, StoredBackup, to_prune
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import (
    ALL_SCHOOLS,
    ArchiveYearEnd,
    BackupCreate,
    PrintCompleted,
    PrintFailed,
    new_backup_id,
)
from shared.storage import FileStore

log = logging.getLogger(__name__)

#: Commands the gateway (or an operator) sends; routing key ``backup.<type>``.
CREATE_COMMAND = "backup.create"
YEAR_END_COMMAND = "archive.year_end"
COMMANDS = frozenset({CREATE_COMMAND, YEAR_END_COMMAND})
PRINT_COMPLETED = "print.completed"
PRINT_FAILED = "print.failed"
#: The printer's command (commands exchange, key ``printer.print.request``).
PRINT_REQUEST = "print.request"


class RestoreRefused(Exception):
    """The target database is not empty, or the archive does not check out."""


@dataclass
class BackupContext:
    """What the use cases need; built once per process from the settings."""

    engine: Engine
    archives: FileStore            # where archives are kept
    files: FileStore | None        # printed PDFs (pdf/<school>/…), copied into archives
    key: bytes
    retention: Retention = field(default_factory=Retention)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    progress: ProgressFn | None = None
    scratch: Path | None = None    # parent of scratch folders (the system's temp by default)


# ---------------------------------------------------------------- consumer side

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


# ---------------------------------------------------------------- the catalog

def claim_slot(engine: Engine, scope: str, kind: str, slot: str, now: datetime) -> str | None:
    """Insert the row of a scheduled slot; None if another instance has it already."""
    backup_id = new_backup_id()
    statement = conflict_insert(engine, backups).values(
        id=backup_id, scope=scope, kind=kind, slot=slot, status="running",
        requested_by="schedule", requested_at=now,
    ).on_conflict_do_nothing(index_elements=["scope", "slot"]).returning(backups.c.id)
    with engine.begin() as connection:
        return connection.execute(statement).scalar()


def create_request(engine: Engine, scope: str, kind: str, requested_by: str,
                   now: datetime, *, status: str = "running") -> str:
    backup_id = new_backup_id()
    with engine.begin() as connection:
        connection.execute(insert(backups).values(
            id=backup_id, scope=scope, kind=kind, status=status, requested_by=requested_by,
            requested_at=now))
    return backup_id


def claim_requested(engine: Engine) -> list[str]:
    """Requests from the API; each is claimed by one instance (status requested → running)."""
    claimed = []
    with engine.connect() as connection:
        ids = connection.execute(select(backups.c.id).where(backups.c.status == "requested")
                                 .order_by(backups.c.requested_at)).scalars().all()
    for backup_id in ids:
        with engine.begin() as connection:
            if connection.execute(update(backups).where(
                    backups.c.id == backup_id, backups.c.status == "requested")
                    .values(status="running")).rowcount == 1:
                claimed.append(backup_id)
    return claimed


def list_backups(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(
            select(backups).order_by(backups.c.requested_at.desc()))]


def find_backup(engine: Engine, backup_id_or_key: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(backups).where(
            (backups.c.id == backup_id_or_key) | (backups.c.key == backup_id_or_key))).first()
    return dict(row._mapping) if row else None


def latest_backup(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(backups).where(backups.c.key.is_not(None))
                                 .order_by(backups.c.created_at.desc())).first()
    return dict(row._mapping) if row else None


# ---------------------------------------------------------------- backup

@dataclass
class Outcome:
    backup_id: str
    key: str | None
    status: str
    events: int = 0
    bytes: int = 0
    manifest: Manifest | None = None
    problems: list[str] = field(default_factory=list)


def make_backup(ctx: BackupContext, backup_id: str) -> Outcome:
    """Write, store and verify the backup of a catalog row; announce the result."""
    with ctx.engine.connect() as connection:
        row = connection.execute(select(backups).where(backups.c.id == backup_id)).one()
    try:
        outcome = write_backup(ctx, backup_id, row.scope, row.kind)
    except Exception as exc:
        log.exception("backup failed", extra={"backup_id": backup_id})
        now = ctx.clock()
        with ctx.engine.begin() as connection:
            connection.execute(update(backups).where(backups.c.id == backup_id)
                               .values(status="failed", error=str(exc)[:2000]))
            announce(connection, "backup.failed", row.scope,
                      {"backup_id": backup_id, "kind": row.kind, "error": str(exc)[:500]}, now)
        return Outcome(backup_id, None, "failed", problems=[str(exc)])
    trial = needs_trial_restore(ctx, row.scope, row.kind)
    verification = verify(ctx, outcome.key or "", expected=outcome.manifest,
                          trial_restore=trial)
    now = ctx.clock()
    status = "verified" if verification.ok else "damaged"
    with ctx.engine.begin() as connection:
        connection.execute(update(backups).where(backups.c.id == backup_id).values(
            status=status, verified_at=now,
            restored_at=now if trial and verification.ok else None,
            error="; ".join(verification.problems)[:2000] or None))
        announce(connection, "backup.verified", row.scope, {
            "backup_id": backup_id, "key": outcome.key, "ok": verification.ok,
            "problems": verification.problems[:20], "verified_at": now.isoformat(),
            "trial_restore": trial}, now)
    outcome.status, outcome.problems = status, verification.problems
    if verification.ok:
        prune(ctx)
    return outcome


def needs_trial_restore(ctx: BackupContext, scope: str, kind: str) -> bool:
    """One full trial restore per retention cycle and scope: when no backup of the
    scope was proved by one within the daily retention window (the oldest daily
    backup kept), and for every backup kept for good (half-year, year end)."""
    if kind in FOREVER:
        return True
    since = ctx.clock() - timedelta(days=max(1, ctx.retention.daily))
    with ctx.engine.connect() as connection:
        proved = connection.execute(select(backups.c.id).where(
            backups.c.scope == scope, backups.c.restored_at.is_not(None),
            backups.c.restored_at > since).limit(1)).first()
    return proved is None


def write_backup(ctx: BackupContext, backup_id: str, scope: str, kind: str) -> Outcome:
    """Write and store the archive (no verification); the catalog row becomes completed.

    Streamed: the journal from a server-side cursor into members in a scratch
    folder, the archive sealed chunk by chunk into a scratch file, stored in parts.
    """
    created_at = ctx.clock()
    key = archive_key(scope, kind, created_at, backup_id)
    with _scratch(ctx) as folder:
        with ctx.engine.connect() as connection:
            members = write_members(connection, scope, ctx.files, folder / "members",
                                    ctx.progress)
        manifest = manifest_for(backup_id, scope, kind, created_at, members)
        size, digest = pack_to(members, manifest, folder / "archive.kzb", ctx.key)
        ctx.archives.put_file(key, folder / "archive.kzb")
    events = int(manifest.counts["events"])
    with ctx.engine.begin() as connection:
        connection.execute(update(backups).where(backups.c.id == backup_id).values(
            status="completed", key=key, created_at=created_at, events=events,
            bytes=size, sha256=digest,
            members=orjson.dumps(manifest.checksums).decode(),
            last_seq=manifest.chain.get("last_seq"), head_hash=manifest.chain.get("head")))
        announce(connection, "backup.completed", scope, {
            "backup_id": backup_id, "kind": kind, "key": key, "events": events,
            "bytes": size, "sha256": digest, "created_at": created_at.isoformat(),
            "time_range": manifest.time_range}, created_at)
    return Outcome(backup_id, key, "completed", events, size, manifest)


class _scratch:  # noqa: N801 - used as a context manager like tempfile's
    def __init__(self, ctx: BackupContext) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="kozomol-backup-", dir=ctx.scratch))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *_: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------- verify

@dataclass
class Verification:
    key: str
    ok: bool
    problems: list[str]
    manifest: Manifest | None = None
    events: int = 0


def verify(ctx: BackupContext, key: str, expected: Manifest | None = None, *,
           trial_restore: bool = True) -> Verification:
    """Read the stored archive as a restore reads it (see :func:`verify_stream`),
    and with ``trial_restore`` restore it into a scratch database as well."""
    stored = _stored_digest(ctx.engine, key)
    with _scratch(ctx) as folder, ctx.archives.open_read(key) as source:
        return verify_stream(source, ctx.key, folder, key, expected=expected,
                             progress=ctx.progress, trial_restore=trial_restore,
                             sha256=stored)


def _stored_digest(engine: Engine, key: str) -> str | None:
    """The SHA-256 the catalog recorded for the archive when it was stored, if any."""
    with engine.connect() as connection:
        return connection.execute(select(backups.c.sha256).where(
            backups.c.key == key)).scalars().first()


def verify_stream(source: BinaryIO, key_bytes: bytes, folder: Path, key: str = "", *,
                  expected: Manifest | None = None, progress: ProgressFn | None = None,
                  trial_restore: bool = True, sha256: str | None = None) -> Verification:
    """One pass over the stored bytes, in constant memory.

    The reading check (after every backup) proves what a restore needs: every
    chunk authenticated (wrong key, changed, reordered, dropped or truncated
    chunks fail), every member's SHA-256 equal to the manifest's, every journal
    line parsed into an entry and its hash (and for every school, each link)
    checked, the count and head compared with the manifest, every table's CSV
    records decoded and counted against the manifest; and the stored bytes'
    SHA-256 equal to the catalog's. The trial restore (once per retention cycle,
    ``make_backup``) also loads the journal into a scratch database and derives
    the journal and table members again from it.
    """
    scratch = _scratch_engine(folder / "scratch.sqlite3") if trial_restore else None
    found: dict[str, Any] = {"count": 0, "head": None, "check": None}

    def take_journal(manifest: Manifest, chain: TextIO, events: BinaryIO) -> None:
        check = found["check"] = ChainCheck(whole_chain=manifest.scope == ALL_SCHOOLS)
        if scratch is None:
            check_journal(chain, events, check)
            found["count"], found["head"] = check.count, check.previous if check.count else None
            return
        with scratch.begin() as connection:
            connection.execute(insert(journal_head).values(id=1, seq=0, hash=GENESIS))
            found["count"], found["head"] = load_journal(
                connection, _checked(parse_journal(chain, events), check), progress)

    try:
        if scratch is not None:
            metadata.create_all(scratch, tables=[journal, journal_head, inbox])
        try:
            read = read_archive(source, key_bytes, folder / "read", take_journal)
        except ArchiveDamaged as exc:
            return Verification(key, False, [str(exc)])
        manifest = read.manifest
        problems = list(read.problems)
        if sha256 is not None and read.sha256 != sha256:
            problems.append("the stored file's SHA-256 differs from the one recorded when "
                            "it was stored")
        if expected is not None:
            problems += [f"manifest {p}" for p in compare_members(expected.checksums,
                                                                   manifest.checksums)]
        if found["check"] is not None:
            problems += _journal_problems(found["check"], found["count"], found["head"],
                                          manifest)
        if scratch is not None and not problems:
            # Trial restore: write the journal and tables back out of the scratch
            # database and compare them with the manifest.
            with scratch.connect() as connection:
                again = write_members(connection, manifest.scope, None, folder / "again")
            rebuilt = {m.name: m.sha256 for m in again.members}
            derived = {name: digest for name, digest in manifest.checksums.items()
                       if name in (EVENTS, CHAIN) or name.startswith("tables/")}
            problems += [f"trial restore: {p}" for p in compare_members(derived, rebuilt)]
        return Verification(key, not problems, problems, manifest, found["count"])
    finally:
        if scratch is not None:
            scratch.dispose()


def _journal_problems(check: ChainCheck, count: int, head: str | None,
                      manifest: Manifest) -> list[str]:
    problems = []
    if check.problem:
        problems.append(f"journal: {check.problem}")
    if count != manifest.counts.get("events"):
        problems.append(f"journal: {count} entries, the manifest says "
                        f"{manifest.counts.get('events')}")
    if head != manifest.chain.get("head"):
        problems.append("journal: the chain head differs from the manifest")
    return problems


def _scratch_engine(path: Path) -> Engine:
    """A throw-away SQLite file: no rollback journal, no fsync, a page cache of
    64 MB (the unique event-id index of a school year does not fit SQLite's
    default 2 MB; a bound, so a larger school spills to the file, not to memory)."""
    engine = create_engine(f"sqlite:///{path}")

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-65536",
                       "temp_store=FILE"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    sqlalchemy_event.listen(engine, "connect", pragmas)
    return engine


def _checked(entries: Iterator[JournalEntry], check: ChainCheck) -> Iterator[JournalEntry]:
    for entry in entries:
        check.feed(entry)
        yield entry


# ---------------------------------------------------------------- restore

@dataclass
class Restored:
    key: str
    events: int
    head: str | None
    registry_entries: int
    manifest: Manifest


def restore(ctx: BackupContext, key: str, target: Engine,
            restore_files: FileStore | None = None) -> Restored:
    """Restore an archive into an empty database (migrated to the backup branch).

    The archive streams in once, in one transaction: every chunk authenticated
    before it is used, the chain checked while loading, every member checked
    against the manifest before the commit; any problem raises and nothing is
    committed. PDFs are put back after the commit.
    """
    registered: list[dict[str, Any]] = []
    found: dict[str, Any] = {}
    with _scratch(ctx) as folder, ctx.archives.open_read(key) as source:
        with target.begin() as connection:
            if not journal_is_empty(connection):
                raise RestoreRefused("the target database's journal record is not empty")

            def take_journal(manifest: Manifest, chain: TextIO, events: BinaryIO) -> None:
                check = found["check"] = ChainCheck(
                    whole_chain=manifest.scope == ALL_SCHOOLS)
                found["count"], found["head"] = load_journal(connection, _restoring(
                    parse_journal(chain, events), check, connection, registered),
                    ctx.progress)

            read = read_archive(source, ctx.key, folder / "read", take_journal,
                                keep=lambda name: restore_files is not None
                                and name.startswith("pdf/"))
            if read.problems:
                raise ArchiveDamaged("; ".join(read.problems))
            manifest = read.manifest
            if not found:
                raise ArchiveDamaged("the archive has no journal")
            count, head, check = found["count"], found["head"], found["check"]
            if check.problem:
                raise ArchiveDamaged(f"journal: {check.problem}")
            if count != manifest.counts.get("events") or head != manifest.chain.get("head"):
                raise ArchiveDamaged("journal: entries or chain head differ from the manifest")
            for data in registered:
                add_registry_entry(connection, ArchiveEntry.from_data(data))
        if restore_files is not None:
            _put_back(restore_files, read)
    return Restored(key, count, head, len(registered), manifest)


def _put_back(files: FileStore, read: ArchiveRead) -> None:
    """The archive's PDFs that the file store lacks."""
    for name, path in read.kept.items():
        if not files.exists(name):
            files.put_file(name, path)


def _restoring(entries: Iterator[JournalEntry], check: ChainCheck, connection: Connection,
               registered: list[dict[str, Any]]) -> Iterator[JournalEntry]:
    """Entries on their way in: chain-checked, their ids into the inbox (so a
    replay of the same events is not journaled twice), registry entries kept."""
    ids: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for entry in entries:
        check.feed(entry)
        ids.append({"event_id": entry.event_id, "processed_at": now})
        if entry.type == "archive.registered":
            registered.append(orjson.loads(entry.body)["data"])
        if len(ids) >= 2000:
            bulk_insert(connection, inbox, ids)
            ids = []
        yield entry
    bulk_insert(connection, inbox, ids)


def replay(engine: Engine, publish: Callable[[list[tuple[str, bytes, str, str]]], None],
           batch: int = 1000) -> int:
    """Send every journaled event again (routing key = type), in sequence order,
    so the other services rebuild from the restored record; their inboxes drop
    what they already have. ``publish`` takes (routing key, body, id, school)."""
    sent, pending = 0, []
    with engine.connect() as connection:
        for entry in journal_entries_all(connection):
            pending.append((entry.type, entry.body, entry.event_id, entry.school_id))
            if len(pending) >= batch:
                publish(pending)
                sent += len(pending)
                pending = []
    if pending:
        publish(pending)
        sent += len(pending)
    return sent


def journal_entries_all(connection: Connection) -> Iterator[JournalEntry]:
    return journal_entries(connection, ALL_SCHOOLS)


# ---------------------------------------------------------------- retention

def prune(ctx: BackupContext, dry_run: bool = False) -> list[str]:
    """Delete the archives the retention policy lets go; their rows stay, marked pruned."""
    with ctx.engine.connect() as connection:
        rows = connection.execute(select(backups).where(
            backups.c.status.in_(("completed", "verified")),
            backups.c.created_at.is_not(None))).all()
    stored = [StoredBackup(r.id, r.scope, r.kind, _aware(r.created_at), r.status == "verified")
              for r in rows]
    doomed = to_prune(stored, ctx.retention)
    keys = {r.id: r.key for r in rows}
    if dry_run:
        return sorted(doomed)
    scopes = {r.id: r.scope for r in rows}
    for backup_id in sorted(doomed):
        if keys[backup_id]:
            ctx.archives.delete(keys[backup_id])
        now = datetime.now(UTC)
        with ctx.engine.begin() as connection:
            connection.execute(update(backups).where(backups.c.id == backup_id)
                               .values(status="pruned"))
            # the API's listing learns it too: no longer "verified", its key gone
            announce(connection, "backup.pruned", scopes[backup_id],
                      {"backup_id": backup_id, "key": keys[backup_id],
                       "pruned_at": now.isoformat()}, now)
    if doomed:
        log.info("pruned backups", extra={"count": len(doomed)})
    return sorted(doomed)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------- class teacher's export

def export_class_journal(connection: Connection, school_id: str, class_id: str,
                         fmt: str) -> bytes:
    """A class journal from the journal record, as CSV or XLSX."""
    folder = TableFolder()
    wanted = ("school.calendar", "teacher.profile", "class.roster", "subject.plan",
              "lesson.recorded", "lesson.deleted", "attendance.recorded", "mark.recorded",
              "mark.deleted")
    for row in connection.execute(select(journal.c.seq, journal.c.type, journal.c.body).where(
            journal.c.school_id == school_id, journal.c.type.in_(wanted))
            .execution_options(yield_per=2000)):
        folder.feed(row.seq, row.type, bytes(row.body))
    built = build_class_journal(folder, class_id)
    return to_csv(built) if fmt == "csv" else to_xlsx(built)
