"""Restoring a backup into a database, and replaying the journal."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, TextIO

import orjson
from sqlalchemy import Connection, Engine

from services.backup.adapters.archive_io import (
    ArchiveRead,
    bulk_insert,
    journal_entries,
    journal_is_empty,
    load_journal,
    read_archive,
)
from services.backup.adapters.tables import (
    inbox,
)
from services.backup.domain.archive import (
    ArchiveDamaged,
    ChainCheck,
    JournalEntry,
    Manifest,
    parse_journal,
)
from services.backup.domain.registry import ArchiveEntry
from services.backup.handlers.context import BackupContext, RestoreRefused, scratch
from services.backup.handlers.journal import add_registry_entry
from shared.events.messages import (
    ALL_SCHOOLS,
)
from shared.storage import FileStore

log = logging.getLogger(__name__)


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
    with scratch(ctx) as folder, ctx.archives.open_read(key) as source:
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
