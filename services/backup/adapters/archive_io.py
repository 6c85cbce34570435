"""Writing an archive from the journal record, and reading one back.

Members are written to a scratch folder while being hashed, then packed as a
tar stream (manifest first), compressed and encrypted. Reading authenticates
and decrypts the whole file first, so nothing is taken from a damaged archive,
then unpacks every member into a scratch folder, checking it against the
manifest.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import zstandard
from sqlalchemy import Connection, Table, func, insert, select, update

from services.backup.adapters.crypto import (
    compressing_writer,
    decompressing_reader,
    decrypt_to,
    encrypt_file,
)
from services.backup.adapters.tables import journal, journal_head
from services.backup.domain.archive import (
    CHAIN,
    CHAIN_COLUMNS,
    EVENTS,
    MANIFEST,
    ArchiveDamaged,
    ChainCheck,
    JournalEntry,
    Manifest,
    Member,
    chain_row,
    compare_members,
    csv_line,
    csv_lines,
    events_line,
    iso,
    parse_journal,
)
from services.backup.domain.derived import TableFolder, table_rows
from shared.db.engine import is_postgresql
from shared.events.messages import ALL_SCHOOLS
from shared.storage import FileStore, check_key

BATCH = 2000
#: ``progress(what, count)``: long work reports how far it got
ProgressFn = Callable[[str, int], None]


class _HashingFile:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.handle, self.digest, self.size = path, open(path, "wb"), \
            hashlib.sha256(), 0  # noqa: SIM115 - closed in close()

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)

    def close(self) -> tuple[int, str]:
        self.handle.close()
        return self.size, self.digest.hexdigest()


def journal_entries(connection: Connection, scope: str) -> Iterator[JournalEntry]:
    query = select(journal).order_by(journal.c.seq).execution_options(yield_per=BATCH)
    if scope != ALL_SCHOOLS:
        # A school's backup holds the events for every school too (a nationwide
        # outage, school_id "*"): restored alone, the school keeps its grace.
        query = query.where(journal.c.school_id.in_((scope, ALL_SCHOOLS)))
    for row in connection.execute(query):
        yield JournalEntry(row.seq, row.event_id, row.school_id, row.type, row.occurred_at,
                           row.recorded_at, bytes(row.body), row.prev_hash, row.hash)


@dataclass
class Members:
    """The members written to a scratch folder, with what the manifest says of them."""

    folder: Path
    members: list[Member]
    counts: dict[str, object]
    time_range: dict[str, object]
    chain: dict[str, object]


def write_members(connection: Connection, scope: str, files: FileStore | None,
                  folder: Path, progress: ProgressFn | None = None) -> Members:
    """Journal, derived tables and PDFs of ``scope`` into ``folder``."""
    members: list[Member] = []
    events_out = _HashingFile(folder / EVENTS)
    chain_out = _HashingFile(folder / CHAIN)
    chain_out.write(csv_line(CHAIN_COLUMNS))
    folder_state = TableFolder()
    check = ChainCheck(whole_chain=scope == ALL_SCHOOLS)
    types: Counter[str] = Counter()
    first = last = None
    low = high = ""
    pending_events: list[bytes] = []
    pending_chain: list[tuple[object, ...]] = []
    for entry in journal_entries(connection, scope):
        row = chain_row(entry)
        stamp = str(row[4])
        low = stamp if not low or stamp < low else low
        high = max(high, stamp)
        pending_events.append(events_line(entry))
        pending_chain.append(row)
        if len(pending_chain) >= BATCH:
            events_out.write(b"".join(pending_events))
            chain_out.write(csv_lines(pending_chain))
            pending_events, pending_chain = [], []
        folder_state.feed(entry.seq, entry.type, entry.body)
        check.feed(entry)
        types[entry.type] += 1
        first = first or entry
        last = entry
        if progress is not None and check.count % 100_000 == 0:
            progress("journal entries written", check.count)
    events_out.write(b"".join(pending_events))
    chain_out.write(csv_lines(pending_chain))
    for name, out in ((EVENTS, events_out), (CHAIN, chain_out)):
        size, digest = out.close()
        members.append(Member(name, size, digest))
    table_counts = {}
    for spec, rows in table_rows(folder_state):
        out = _HashingFile(folder / f"tables/{spec.name}.csv")
        out.write(csv_line(spec.columns))
        for start in range(0, len(rows), BATCH):
            out.write(csv_lines(rows[start:start + BATCH]))
        size, digest = out.close()
        members.append(Member(f"tables/{spec.name}.csv", size, digest))
        table_counts[spec.name] = len(rows)
    pdfs = 0
    if files is not None:
        prefix = "pdf/" if scope == ALL_SCHOOLS else f"pdf/{scope}/"
        for key in files.keys(prefix):
            out = _HashingFile(folder / key)
            out.write(files.get(key))
            size, digest = out.close()
            members.append(Member(key, size, digest))
            pdfs += 1
    if progress is not None:
        progress("journal entries written", check.count)
    return Members(
        folder=folder, members=members,
        counts={"events": check.count, "types": dict(sorted(types.items())),
                "tables": table_counts, "pdfs": pdfs},
        time_range={
            **({"first_seq": first.seq, "last_seq": last.seq,
                "first_recorded_at": iso(first.recorded_at),
                "last_recorded_at": iso(last.recorded_at)} if first and last else {}),
            **({"first_occurred_at": low, "last_occurred_at": high} if first else {})},
        chain={"whole": scope == ALL_SCHOOLS, "head": last.hash if last else None,
               "last_seq": last.seq if last else 0, "intact": check.problem is None,
               "problem": check.problem})


def pack(members: Members, manifest: Manifest, target: Path, key: bytes) -> bytes:
    """Tar (manifest first) → zstd → AES-256-GCM; returns the encrypted bytes."""
    compressed = target.with_suffix(".tar.zst")
    mtime = manifest.created_at.timestamp()
    with open(compressed, "wb") as raw:
        writer = compressing_writer(raw)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, manifest.to_json(), mtime)
            for member in manifest.members:
                info = tarfile.TarInfo(member.name)
                info.size, info.mtime, info.mode = member.size, mtime, 0o644
                with open(members.folder / member.name, "rb") as handle:
                    tar.addfile(info, handle)
        writer.close()
    try:
        return encrypt_file(compressed, key)
    finally:
        compressed.unlink(missing_ok=True)


def _add_bytes(tar: tarfile.TarFile, name: str, body: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(body), mtime, 0o644
    tar.addfile(info, io.BytesIO(body))


@dataclass
class Unpacked:
    manifest: Manifest
    folder: Path
    checksums: dict[str, str]

    def entries(self) -> Iterator[JournalEntry]:
        with open(self.folder / CHAIN, encoding="utf-8", newline="") as chain, \
                open(self.folder / EVENTS, "rb") as events:
            yield from parse_journal(chain, events)

    def problems(self) -> list[str]:
        return compare_members(self.manifest.checksums, self.checksums)


def unpack(body: bytes, key: bytes, folder: Path) -> Unpacked:
    """Decrypt (all of it first), decompress and unpack into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "archive.tar.zst"
    decrypt_to(body, key, plain)
    target = folder / "members"
    checksums: dict[str, str] = {}
    manifest: Manifest | None = None
    try:
        with open(plain, "rb") as raw:
            stream: BinaryIO = decompressing_reader(raw)
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for info in tar:
                    handle = tar.extractfile(info) if info.isfile() else None
                    if handle is None:
                        raise ArchiveDamaged(f"unexpected archive member {info.name!r}")
                    if manifest is None:
                        if info.name != MANIFEST:
                            raise ArchiveDamaged("the first member is not the manifest")
                        manifest = Manifest.from_json(handle.read())
                        continue
                    if info.name not in manifest.checksums:
                        raise ArchiveDamaged(f"{info.name!r} is not in the manifest")
                    out = _HashingFile(target / check_key(info.name))
                    while chunk := handle.read(1 << 20):
                        out.write(chunk)
                    checksums[info.name] = out.close()[1]
    except (tarfile.TarError, zstandard.ZstdError, EOFError, ValueError) as exc:
        raise ArchiveDamaged(f"the archive cannot be unpacked: {exc}") from exc
    finally:
        plain.unlink(missing_ok=True)
    if manifest is None:
        raise ArchiveDamaged("the archive has no manifest")
    return Unpacked(manifest, target, checksums)


def journal_schools(connection: Connection) -> list[str]:
    """Every school the journal holds entries of (not the every-school id)."""
    return sorted(school for school in connection.execute(
        select(journal.c.school_id).distinct()).scalars() if school != ALL_SCHOOLS)


def journal_is_empty(connection: Connection) -> bool:
    return not connection.execute(select(func.count()).select_from(journal)).scalar_one()


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    """PostgreSQL: COPY (several times faster than INSERT for a restore); else executemany."""
    if not rows:
        return
    if not is_postgresql(connection):
        connection.execute(insert(table), rows)
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    columns = list(rows[0])
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])


def load_journal(connection: Connection, entries: Iterator[JournalEntry],
                 progress: ProgressFn | None = None) -> tuple[int, str | None]:
    """Insert archived entries as they were; the head row follows the last one."""
    batch: list[dict[str, object]] = []
    count, last_seq, last_hash = 0, 0, None
    for entry in entries:
        batch.append({"seq": entry.seq, "event_id": entry.event_id,
                      "school_id": entry.school_id, "type": entry.type,
                      "occurred_at": entry.occurred_at, "recorded_at": entry.recorded_at,
                      "body": entry.body, "prev_hash": entry.prev_hash, "hash": entry.hash})
        count += 1
        last_seq, last_hash = entry.seq, entry.hash
        if len(batch) >= BATCH:
            bulk_insert(connection, journal, batch)
            batch = []
            if progress is not None and count % 100_000 < BATCH:
                progress("journal entries restored", count)
    if batch:
        bulk_insert(connection, journal, batch)
    if last_hash is not None:
        connection.execute(update(journal_head).where(journal_head.c.id == 1)
                           .values(seq=last_seq, hash=last_hash))
    return count, last_hash


def manifest_for(backup_id: str, scope: str, kind: str, created_at: datetime,
                 members: Members) -> Manifest:
    return Manifest(backup_id=backup_id, scope=scope, kind=kind, created_at=created_at,
                    members=members.members, counts=dict(members.counts),
                    time_range=dict(members.time_range), chain=dict(members.chain))
