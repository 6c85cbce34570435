"""Verifying a backup: by reading every member, or by a full trial restore."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy import event as sqlalchemy_event

from services.backup.adapters.archive_io import (
    ProgressFn,
    load_journal,
    read_archive,
    write_members,
)
from services.backup.adapters.tables import (
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
    check_journal,
    compare_members,
    parse_journal,
)
from services.backup.domain.journal import GENESIS
from services.backup.handlers.context import BackupContext, scratch
from shared.events.messages import (
    ALL_SCHOOLS,
)

log = logging.getLogger(__name__)


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
    with scratch(ctx) as folder, ctx.archives.open_read(key) as source:
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
