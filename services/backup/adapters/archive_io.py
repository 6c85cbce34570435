"""Writing an archive from the journal record, and reading one back, streamed.

Writing: the journal is read with a server-side cursor, its members written to
a scratch folder while being hashed, the derived tables folded in a scratch
SQLite file (``table_fold.py``), then everything is packed as a tar stream
(manifest first), compressed and encrypted chunk by chunk into a scratch file
that the store takes in parts. Reading: the stored file is read as a stream,
each chunk authenticated before it is decompressed, every member hashed as it
passes and the journal handed to the caller entry by entry. Memory stays the
same whatever the school's size (issue 20); the scratch folder holds the rest.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import tarfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import zstandard
from sqlalchemy import Connection, Table, func, insert, select, update

from services.backup.adapters import kept_tables
from services.backup.adapters.crypto import (
    DecryptingReader,
    EncryptingWriter,
    compressing_writer,
    decompressing_reader,
)
from services.backup.adapters.table_fold import ScratchTables, TableWorker, write_tables
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
    compare_members,
    csv_line,
    csv_lines,
    iso,
)
from shared.db.engine import is_postgresql
from shared.events.messages import ALL_SCHOOLS
from shared.storage import FileStore, check_key

BATCH = 2000
BLOCK = 1024 * 1024
#: ``progress(what, count)``: long work reports how far it got
ProgressFn = Callable[[str, int], None]
#: ``journal(manifest, chain_lines, event_lines)``: what a reader does with the journal
#: as it streams past (``parse_journal`` for entries, ``check_journal`` to check only)
JournalSink = Callable[[Manifest, TextIO, BinaryIO], None]


class _HashingFile:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.handle, self.digest, self.size = path, open(path, "wb"), \
            hashlib.sha256(), 0  # noqa: SIM115 - closed in close()

    def write(self, data: bytes) -> int:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self.handle.flush()

    def close(self) -> tuple[int, str]:
        self.handle.close()
        return self.size, self.digest.hexdigest()


class _HashingReader(io.RawIOBase):
    """Reads through ``source``, hashing and counting every byte that passes."""

    def __init__(self, source: BinaryIO) -> None:
        self.source, self.digest, self.size = source, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        data = self.source.read(len(target))
        if not data:
            return 0
        target[:len(data)] = data
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def drain(self) -> None:
        while self.read(BLOCK):
            pass


def journal_entries(connection: Connection, scope: str) -> Iterator[JournalEntry]:
    for row in _journal_rows(connection, scope):
        yield JournalEntry(*row)


def _journal_rows(connection: Connection, scope: str, upto: int | None = None,
                  after: int = 0) -> Iterator[tuple[Any, ...]]:
    """The scope's journal rows in sequence order (up to ``upto``), as plain
    tuples, from a server-side cursor (``yield_per``): a batch in memory at a time."""
    query = select(journal.c.seq, journal.c.event_id, journal.c.school_id, journal.c.type,
                   journal.c.occurred_at, journal.c.recorded_at, journal.c.body,
                   journal.c.prev_hash, journal.c.hash,
                   ).order_by(journal.c.seq).execution_options(yield_per=BATCH)
    if upto is not None:
        query = query.where(journal.c.seq <= upto)
    if after:
        query = query.where(journal.c.seq > after)
    if scope != ALL_SCHOOLS:
        # A school's backup holds the events for every school too (a nationwide
        # outage, school_id "*"): restored alone, the school keeps its grace.
        query = query.where(journal.c.school_id.in_((scope, ALL_SCHOOLS)))
    for partition in connection.execute(query).partitions():
        yield from partition


#: many entries share a time (a batch's recorded_at, a lesson's occurred_at)
_iso = functools.lru_cache(maxsize=4096)(iso)


@dataclass
class Members:
    """The members written to a scratch folder, with what the manifest says of them."""

    folder: Path
    members: list[Member]
    counts: dict[str, object]
    time_range: dict[str, object]
    chain: dict[str, object]
    #: members written elsewhere than ``folder`` (the kept journal's working copies)
    paths: dict[str, Path] = field(default_factory=dict)
    #: the kept state these members were made from, kept by :meth:`keep`
    resumed: kept_tables.Resumed | None = None
    scope: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        return self.paths.get(name, self.folder / name)

    def keep(self) -> None:
        """Once the archive is stored: what it was made from becomes the kept state
        the scope's next backup goes on from (only a journal whose chain held)."""
        if self.resumed is None:
            return
        if self.chain["intact"] and self.chain["head"]:
            kept_tables.keep(self.resumed, self.scope, int(str(self.chain["last_seq"])),
                             str(self.chain["head"]), self.summary)
        else:
            kept_tables.discard(self.resumed)
        self.resumed = None

    def discard(self) -> None:
        """The backup failed: its working copies go, the kept state stays as it was."""
        if self.resumed is not None:
            kept_tables.discard(self.resumed)
            self.resumed = None


#: A scope with more journal entries than this has its tables folded by a
#: second process (:class:`TableWorker`), on PostgreSQL; below, starting one
#: costs more than it saves.
WORKER_ABOVE = 50_000


def write_members(connection: Connection, scope: str, files: FileStore | None,
                  folder: Path, progress: ProgressFn | None = None, *,
                  kept: Path | None = None) -> Members:
    """Journal, derived tables and PDFs of ``scope`` into ``folder``, streamed.

    With ``kept`` (a folder) the scope's folded tables are kept there between
    backups (``kept_tables.py``): a backup after the last one folds only the
    entries added since; the members are the same bytes either way.
    """
    folder.mkdir(parents=True, exist_ok=True)
    upto = connection.execute(select(func.coalesce(func.max(journal.c.seq), 0))).scalar_one()
    resumed = kept_tables.resume(connection, kept, scope) if kept is not None else None
    after = resumed.after if resumed is not None else 0
    tables_path = resumed.path if resumed is not None else folder / "tables.sqlite3"
    worker = None
    # PostgreSQL only: on SQLite every transaction takes the write lock (BEGIN
    # IMMEDIATE, shared/db/engine.py), so a worker's read would wait for ours.
    # Folding on top of a kept state is a day's entries: no worker for that.
    if not after and is_postgresql(connection) and _entries(connection, scope) > WORKER_ABOVE:
        worker = TableWorker(connection.engine.url.render_as_string(hide_password=False),
                             scope, upto, folder, tables_path if resumed else None)
    tables = None if worker else ScratchTables(tables_path)
    done = False
    try:
        members, summary = _write_journal(connection, scope, upto, folder, tables,
                                          resumed=resumed, progress=progress)
        if worker is not None:
            written = worker.result()
        else:
            assert tables is not None
            written = write_tables(tables, folder)
        done = True
    finally:
        if worker:
            worker.stop()
        if tables:
            tables.close()
        if resumed is None:
            (folder / "tables.sqlite3").unlink(missing_ok=True)
        elif not done:
            kept_tables.discard(resumed)
    members += [Member(table.name, table.size, table.sha256) for table in written]
    summary.counts["tables"] = {table.name.removeprefix("tables/").removesuffix(".csv"):
                                table.rows for table in written}
    pdfs = 0
    if files is not None:
        prefix = "pdf/" if scope == ALL_SCHOOLS else f"pdf/{scope}/"
        for key in files.keys(prefix):
            out = _HashingFile(folder / key)
            with files.open_read(key) as handle:
                while block := handle.read(BLOCK):
                    out.write(block)
            size, digest = out.close()
            members.append(Member(key, size, digest))
            pdfs += 1
    summary.counts["pdfs"] = pdfs
    summary.members = members
    return summary


def _entries(connection: Connection, scope: str) -> int:
    query = select(func.count()).select_from(journal)
    if scope != ALL_SCHOOLS:
        query = query.where(journal.c.school_id.in_((scope, ALL_SCHOOLS)))
    return int(connection.execute(query).scalar_one())


def _write_journal(connection: Connection, scope: str, upto: int, folder: Path,
                   tables: ScratchTables | None, *,
                   resumed: kept_tables.Resumed | None = None,
                   progress: ProgressFn | None) -> tuple[list[Member], Members]:
    """``events.jsonl`` and ``chain.csv`` of the scope up to ``upto``, the chain
    checked on the way; the tables fed too unless a worker folds them. From a
    kept state: its journal files copied (and hashed), then only the entries
    after it read, checked and fed to the tables."""
    tables_after = resumed.after if resumed is not None else 0
    paths = {name: resumed.work(name) for name in (EVENTS, CHAIN)} if resumed else {}
    events_out = _HashingFile(paths.get(EVENTS, folder / EVENTS))
    chain_out = _HashingFile(paths.get(CHAIN, folder / CHAIN))
    kept = resumed.journal if resumed is not None and resumed.after else {}
    if kept and not (kept_tables.copy_journal(resumed, EVENTS, events_out)  # type: ignore[arg-type]
                     and kept_tables.copy_journal(resumed, CHAIN, chain_out)):  # type: ignore[arg-type]
        events_out.close()
        chain_out.close()
        events_out = _HashingFile(paths[EVENTS])  # damaged: the whole journal read again
        chain_out = _HashingFile(paths[CHAIN])
        kept = {}
    after = resumed.after if kept and resumed is not None else 0
    if not kept:
        chain_out.write(csv_line(CHAIN_COLUMNS))
    check = ChainCheck(whole_chain=scope == ALL_SCHOOLS)
    types: Counter[str] = Counter(kept.get("types") or {})
    first_seq, first_recorded = kept.get("first_seq"), kept.get("first_recorded_at")
    last_seq, last_recorded, last_hash = after, kept.get("last_recorded_at"), None
    low, high = kept.get("low", ""), kept.get("high", "")
    if kept:
        assert resumed is not None
        check.count, check.last_seq = int(kept["count"]), after
        check.previous = last_hash = str(kept["head"])
    pending_events: list[bytes] = []
    pending_chain: list[tuple[object, ...]] = []
    feed_tables = tables.feed if tables is not None else None
    feed_check = check.feed_values
    for row in _journal_rows(connection, scope, upto, after):
        seq, event_id, school_id, event_type, occurred_at, recorded_at, body, prev_hash, \
            entry_hash = row
        body = bytes(body)
        stamp = _iso(occurred_at)
        if not low or stamp < low:
            low = stamp
        high = max(high, stamp)
        pending_events.append(body)
        pending_chain.append((seq, event_id, school_id, event_type, stamp,
                              _iso(recorded_at), prev_hash, entry_hash))
        if len(pending_chain) >= BATCH:
            events_out.write(b"\n".join(pending_events) + b"\n")
            chain_out.write(csv_lines(pending_chain))
            pending_events, pending_chain = [], []
        if feed_tables is not None and seq > tables_after:
            feed_tables(seq, event_type, body)
        feed_check(seq, body, prev_hash, entry_hash)
        types[event_type] += 1
        if first_seq is None:
            first_seq, first_recorded = seq, iso(recorded_at)
        last_seq, last_recorded, last_hash = seq, recorded_at, entry_hash
        if progress is not None and check.count % 100_000 == 0:
            progress("journal entries written", check.count)
    if pending_events:
        events_out.write(b"\n".join(pending_events) + b"\n")
        chain_out.write(csv_lines(pending_chain))
    members: list[Member] = []
    for name, out in ((EVENTS, events_out), (CHAIN, chain_out)):
        size, digest = out.close()
        members.append(Member(name, size, digest))
    if progress is not None:
        progress("journal entries written", check.count)
    if isinstance(last_recorded, datetime):
        last_recorded = iso(last_recorded)
    found = first_seq is not None
    summary = {"count": check.count, "types": dict(types), "first_seq": first_seq,
               "first_recorded_at": first_recorded, "last_recorded_at": last_recorded,
               "low": low, "high": high, "head": last_hash,
               "files": {m.name: {"size": m.size, "sha256": m.sha256} for m in members}}
    return members, Members(
        folder=folder, members=[],
        counts={"events": check.count, "types": dict(sorted(types.items())),
                "tables": {}, "pdfs": 0},
        time_range={
            **({"first_seq": first_seq, "last_seq": last_seq,
                "first_recorded_at": first_recorded,
                "last_recorded_at": last_recorded} if found else {}),
            **({"first_occurred_at": low, "last_occurred_at": high} if found else {})},
        chain={"whole": scope == ALL_SCHOOLS, "head": last_hash,
               "last_seq": last_seq if found else 0, "intact": check.problem is None,
               "problem": check.problem},
        paths=paths, resumed=resumed, scope=scope, summary=summary)


def pack_to(members: Members, manifest: Manifest, target: Path, key: bytes) -> tuple[int, str]:
    """Tar (manifest first) → zstd → AES-256-GCM chunks → ``target``, streamed;
    returns the file's size and SHA-256."""
    mtime = manifest.created_at.timestamp()
    out = _HashingFile(target)
    try:
        sealed = EncryptingWriter(out, key)  # type: ignore[arg-type]
        writer = compressing_writer(sealed)  # type: ignore[arg-type]
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, manifest.to_json(), mtime)
            for member in manifest.members:
                info = tarfile.TarInfo(member.name)
                info.size, info.mtime, info.mode = member.size, mtime, 0o644
                with open(members.path(member.name), "rb") as handle:
                    tar.addfile(info, handle)
        writer.close()
        sealed.close()
    finally:
        size, digest = out.close()
    return size, digest


def pack(members: Members, manifest: Manifest, target: Path, key: bytes) -> bytes:
    """The encrypted archive as bytes (small archives, tests); backups use :func:`pack_to`."""
    path = target.with_suffix(".kzb")
    try:
        pack_to(members, manifest, path, key)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _add_bytes(tar: tarfile.TarFile, name: str, body: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(body), mtime, 0o644
    tar.addfile(info, io.BytesIO(body))


@dataclass
class ArchiveRead:
    """What reading a whole archive found: its manifest, every member's SHA-256
    as read, the problems of its members, the members kept in the scratch folder,
    and the size and SHA-256 of the stored bytes."""

    manifest: Manifest
    checksums: dict[str, str]
    problems: list[str]
    kept: dict[str, Path] = field(default_factory=dict)
    size: int = 0
    sha256: str = ""


def read_archive(source: BinaryIO, key: bytes, folder: Path, journal_sink: JournalSink, *,
                 keep: Callable[[str], bool] = lambda _name: False) -> ArchiveRead:
    """Read a stored archive once, front to back, in constant memory.

    Every chunk is authenticated before its bytes are used, every member is
    hashed as it passes (and compared with the manifest), every table's CSV
    records are decoded and counted against the manifest, and the journal is
    given to ``journal_sink`` as it streams (``events.jsonl`` is spooled to
    ``folder`` and read beside ``chain.csv``). Members named by ``keep`` are
    left in ``folder``. Raises :class:`ArchiveDamaged` when the archive cannot
    be read; a caller that writes must not commit before this returns.
    """
    folder.mkdir(parents=True, exist_ok=True)
    raw = _HashingReader(source)
    decrypted = DecryptingReader(raw, key)  # type: ignore[arg-type]
    checksums: dict[str, str] = {}
    problems: list[str] = []
    kept: dict[str, Path] = {}
    manifest: Manifest | None = None
    events_path: Path | None = None
    try:
        stream: BinaryIO = decompressing_reader(decrypted)  # type: ignore[arg-type]
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
                member = _HashingReader(handle)  # type: ignore[arg-type]
                buffered: BinaryIO = io.BufferedReader(member, BLOCK)
                if info.name == EVENTS:
                    events_path = _spool(buffered, folder / "spool" / "events.jsonl")
                elif info.name == CHAIN:
                    if events_path is None:
                        raise ArchiveDamaged("journal/chain.csv comes before events.jsonl")
                    text = io.TextIOWrapper(buffered, encoding="utf-8", newline="")
                    with open(events_path, "rb") as events:
                        journal_sink(manifest, text, events)
                    text.detach()
                    events_path.unlink()
                elif info.name.startswith("tables/") and info.name.endswith(".csv"):
                    problems += _table_problems(info.name, buffered, manifest)
                elif keep(info.name):
                    kept[info.name] = _spool(buffered, folder / "kept" / check_key(info.name))
                while buffered.read(BLOCK):  # the rest of the member, hashed
                    pass
                checksums[info.name] = member.digest.hexdigest()
        while stream.read(BLOCK):  # past the tar's end: the whole frame
            pass
        decrypted.drain()  # and every chunk, up to the one sealed as the last
        raw.drain()
    except (tarfile.TarError, zstandard.ZstdError, EOFError, ValueError) as exc:
        raise ArchiveDamaged(f"the archive cannot be unpacked: {exc}") from exc
    if manifest is None:
        raise ArchiveDamaged("the archive has no manifest")
    problems = compare_members(manifest.checksums, checksums) + problems
    return ArchiveRead(manifest, checksums, problems, kept, raw.size, raw.digest.hexdigest())


def _spool(source: BinaryIO, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        while block := source.read(BLOCK):
            out.write(block)
    return path


def _table_problems(name: str, source: BinaryIO, manifest: Manifest) -> list[str]:
    """Every CSV record of a derived table decoded: each as wide as the header,
    and as many as the manifest counted (the table's checksum then vouches for
    the values). The header is not compared with today's columns: an archive
    written before a column was added stays readable."""
    text = io.TextIOWrapper(source, encoding="utf-8", newline="")
    records = csv.reader(text)
    header = next(records, None)
    width = len(header) if header else 0
    count = ragged = 0
    for record in records:
        count += 1
        if len(record) != width:
            ragged += 1
    text.detach()
    problems = []
    if not header:
        problems.append(f"{name}: no header")
    if ragged:
        problems.append(f"{name}: {ragged} rows do not have the header's {width} columns")
    expected = (manifest.counts.get("tables") or {}).get(name.removeprefix("tables/")
                                                           .removesuffix(".csv"))
    if expected is not None and count != expected:
        problems.append(f"{name}: {count} rows, the manifest says {expected}")
    return problems


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
