"""The derived tables folded in a scratch SQLite file, so a school of any size
folds in the same memory (issue 20).

The same rules as :class:`services.backup.domain.derived.TableFolder` (a later
``occurred_at`` wins, then a later sequence number; a deletion removes the
entity until a later record brings it back), kept by an upsert instead of a
dictionary. Each winning entity is stored as its CSV lines, already rendered,
with the leading columns that name it (``TableSpec.identity``) as sort columns:
rows of two entities never interleave, so reading the entities in that order
gives exactly the bytes of sorting the whole table in memory.
"""

from __future__ import annotations

import csv
import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from services.backup.adapters.tables import journal
from services.backup.domain.derived import (
    TABLES,
    TableSpec,
    entity_key,
    entity_rows,
    sort_key,
    spec_for,
)
from shared.events.messages import ALL_SCHOOLS

#: sort columns per entity (the largest ``identity`` of the tables)
SORT_COLUMNS = max(spec.identity for spec in TABLES)
BATCH = 2000
_INDEX = {spec.name: number for number, spec in enumerate(TABLES)}
_KS = ", ".join(f"k{n}" for n in range(SORT_COLUMNS))
_UPSERT = (
    # column names only, no values: S608 does not apply
    f"INSERT INTO winners (tbl, school, key, occurred_at, seq, deleted, rows, {_KS}, lines) "  # noqa: S608
    f"VALUES ({', '.join('?' * (8 + SORT_COLUMNS))}) "
    "ON CONFLICT (tbl, school, key) DO UPDATE SET occurred_at = excluded.occurred_at, "
    "seq = excluded.seq, deleted = excluded.deleted, rows = excluded.rows, "
    + ", ".join(f"k{n} = excluded.k{n}" for n in range(SORT_COLUMNS))
    + ", lines = excluded.lines "
    "WHERE (excluded.occurred_at, excluded.seq) > (winners.occurred_at, winners.seq)"
)


class _Lines(list[str]):
    """A csv writer's target that keeps each row's line apart (one write per row)."""

    def write(self, line: str) -> None:
        self.append(line)


class ScratchTables:
    """Feed it journal bodies in any order; read back each table's CSV lines, sorted.

    Opened on an existing file (a kept state, ``kept_tables.py``) it goes on from
    the winners there: every entity's winner is kept, deletions included, so
    feeding the rest of the journal gives what feeding all of it gives.
    """

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        # a throw-away file: no journal, no fsync; a bounded page cache, and sorts
        # that spill to temporary files rather than grow in memory
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-32768",
                       "temp_store=FILE", "locking_mode=EXCLUSIVE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS winners (tbl INTEGER NOT NULL, school TEXT NOT NULL, "
            "key TEXT NOT NULL, "
            "occurred_at TEXT NOT NULL, seq INTEGER NOT NULL, deleted INTEGER NOT NULL, "
            f"rows INTEGER NOT NULL, {_KS}, lines BLOB NOT NULL, "
            "PRIMARY KEY (tbl, school, key)) WITHOUT ROWID")
        self._db.execute("BEGIN")
        self._pending: list[list[Any]] = []
        self._rows: list[tuple[Any, ...]] = []

    def feed(self, seq: int, event_type: str, body: bytes) -> None:
        found = spec_for(event_type)
        if found is None:
            return
        spec, deletion = found
        envelope = orjson.loads(body)
        data = envelope.get("data") or {}
        school = str(envelope.get("school_id"))
        rows = [] if deletion else entity_rows(spec, school, data)
        prefix: list[str | None] = list(sort_key(rows[0][:spec.identity])) if rows else []
        prefix += [None] * (SORT_COLUMNS - len(prefix))
        self._pending.append([
            _INDEX[spec.name], school, orjson.dumps(entity_key(spec, data)).decode(),
            str(envelope.get("occurred_at")), seq, int(deletion), len(rows), *prefix])
        self._rows.extend(rows)
        if len(self._pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        lines = _Lines()
        csv.writer(lines, lineterminator="\n").writerows(self._rows)
        start = 0
        for item in self._pending:
            count = item[6]
            item.append("".join(lines[start:start + count]).encode())
            start += count
        self._db.executemany(_UPSERT, self._pending)
        self._pending, self._rows = [], []

    def row_count(self, spec: TableSpec) -> int:
        self._flush()
        return int(self._db.execute(
            "SELECT coalesce(sum(rows), 0) FROM winners WHERE tbl = ? AND deleted = 0",
            (_INDEX[spec.name],)).fetchone()[0])

    def lines(self, spec: TableSpec) -> Iterator[bytes]:
        """The table's CSV lines (no header) in its sorted order, entity by entity."""
        self._flush()
        cursor = self._db.execute(
            f"SELECT lines FROM winners WHERE tbl = ? AND deleted = 0 AND rows > 0 "  # noqa: S608
            f"ORDER BY {_KS}, lines",
            (_INDEX[spec.name],))
        while batch := cursor.fetchmany(BATCH):
            yield b"".join(row[0] for row in batch)

    def close(self) -> None:
        """Commit (a kept state must hold every winner) and close."""
        self._flush()
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.close()


@dataclass(frozen=True)
class TableFile:
    """One table written to the members folder: ``tables/<name>.csv``."""

    name: str
    size: int
    sha256: str
    rows: int


def write_tables(tables: ScratchTables, folder: Path) -> list[TableFile]:
    """Every table as ``folder/tables/<name>.csv`` (header, then the sorted rows)."""
    written = []
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    for spec in TABLES:
        name = f"tables/{spec.name}.csv"
        digest, size = hashlib.sha256(), 0
        with open(folder / name, "wb") as out:
            header = _csv_line(spec.columns)
            for block in (header, *tables.lines(spec)):
                out.write(block)
                digest.update(block)
                size += len(block)
        written.append(TableFile(name, size, digest.hexdigest(), tables.row_count(spec)))
    return written


def _csv_line(values: tuple[str, ...]) -> bytes:
    lines = _Lines()
    csv.writer(lines, lineterminator="\n").writerow(values)
    return lines[0].encode()


#: The event types the tables are folded from (a worker reads only those rows).
TABLE_TYPES = sorted({spec.recorded for spec in TABLES}
                     | {spec.deleted for spec in TABLES if spec.deleted})


def fold_journal(connection: Connection, scope: str, upto: int, folder: Path,
                 tables_path: Path | None = None) -> list[TableFile]:
    """Read the scope's table events up to sequence number ``upto`` and write the
    tables; the folded state is left in ``tables_path`` if one is given."""
    query = select(journal.c.seq, journal.c.type, journal.c.body).where(
        journal.c.seq <= upto, journal.c.type.in_(TABLE_TYPES),
    ).order_by(journal.c.seq).execution_options(yield_per=BATCH)
    if scope != ALL_SCHOOLS:
        query = query.where(journal.c.school_id.in_((scope, ALL_SCHOOLS)))
    path = tables_path or folder / "worker-tables.sqlite3"
    tables = ScratchTables(path)
    try:
        for partition in connection.execute(query).partitions():
            for seq, event_type, body in partition:
                tables.feed(seq, event_type, bytes(body))
        return write_tables(tables, folder)
    finally:
        tables.close()
        if tables_path is None:
            path.unlink(missing_ok=True)


class TableWorker:
    """The tables folded by a second Python process beside the journal's writer.

    Folding (a JSON parse, rows and CSV per event) is about half a backup's
    work; a process of its own puts it on another core. It reads the same rows
    (sequence numbers up to a bound both use, so both see the same journal) on
    its own connection; the URL travels on stdin, never on a command line.
    """

    def __init__(self, url: str, scope: str, upto: int, folder: Path,
                 tables_path: Path | None = None) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "services.backup.adapters.table_fold"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert self._process.stdin is not None
        # one line, well under a pipe's buffer: the worker starts at once
        self._process.stdin.write(orjson.dumps({"url": url, "scope": scope, "upto": upto,
                                                "folder": str(folder),
                                                "tables": tables_path and str(tables_path),
                                                }) + b"\n")
        self._process.stdin.flush()

    def result(self) -> list[TableFile]:
        out, err = self._process.communicate()
        if self._process.returncode != 0:
            raise RuntimeError(f"the table worker failed: {err.decode(errors='replace')[-2000:]}")
        return [TableFile(**item) for item in orjson.loads(out)]

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _worker_main() -> None:
    from shared.db.engine import make_engine  # noqa: PLC0415 - the worker's own engine

    job = orjson.loads(sys.stdin.buffer.readline())
    engine = make_engine(job["url"])
    try:
        with engine.connect() as connection:
            written = fold_journal(connection, job["scope"], int(job["upto"]),
                                   Path(job["folder"]),
                                   Path(job["tables"]) if job.get("tables") else None)
    finally:
        engine.dispose()
    sys.stdout.buffer.write(orjson.dumps([item.__dict__ for item in written]))


if __name__ == "__main__":
    _worker_main()
