"""A scope's folded tables kept between backups, so the next one folds only the
journal entries added since (issue 20).

The kept state is the scratch SQLite file of :mod:`table_fold` (every entity's
winner, deletions included, so folding more entries on top gives what folding
the whole journal gives) plus one row saying up to which journal entry it was
folded and that entry's chain hash. The journal is append-only and
hash-chained: if the entry at that sequence number still has that hash, every
entry up to it is the one that was folded. Anything else (a restore, a reset,
another fold version, a file that SQLite cannot read) and the state is
discarded and the tables folded from scratch.

One file per scope in the kept folder (beside the service's data), replaced
atomically: a backup folds into a copy, and the copy replaces the kept file
only once the backup's tables were written from it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select

from services.backup.adapters.tables import journal
from services.backup.domain.derived import TABLES

#: what a kept state was folded by: the tables' names, columns and sort columns,
#: and this number, raised when the fold's rules change without them changing
FOLD_RULES = 1
FOLD_VERSION = hashlib.sha256(repr(
    (FOLD_RULES, [(spec.name, spec.columns, spec.identity, spec.recorded, spec.deleted)
                  for spec in TABLES])).encode()).hexdigest()[:16]


def kept_file(folder: Path, scope: str) -> Path:
    """The scope's kept state (the scope is hashed: a school id is not a file name)."""
    return folder / f"tables-{hashlib.sha256(scope.encode()).hexdigest()[:24]}.sqlite3"


@dataclass(frozen=True)
class Resumed:
    """Where a backup folds its tables, and up to which entry they are folded already."""

    path: Path        # a working copy beside the kept file (or a new file)
    after: int        # journal entries up to this sequence number are folded; 0: none
    kept: Path        # the scope's kept file, replaced by ``path`` on success


def resume(connection: Connection, folder: Path, scope: str) -> Resumed:
    """A working copy of the scope's kept state if it matches the journal, else a new file."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = kept_file(folder, scope)
    work = kept.with_name(f"{kept.stem}.{secrets.token_hex(4)}.tmp")
    after = 0
    if kept.exists():
        try:
            shutil.copyfile(kept, work)
            after = _folded_upto(connection, work, scope)
        except (OSError, sqlite3.DatabaseError):
            after = 0
        if not after:
            work.unlink(missing_ok=True)
    return Resumed(work, after, kept)


def _folded_upto(connection: Connection, path: Path, scope: str) -> int:
    """The kept state's last sequence number if the journal still has that entry
    with the same hash; 0 when it does not, or the file is not a kept state."""
    db = sqlite3.connect(path)
    try:
        # a damaged page shows here, not halfway through the tables
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            return 0
        row = db.execute("SELECT scope, version, last_seq, head FROM kept").fetchone()
        db.execute("SELECT count(*) FROM winners").fetchone()
    finally:
        db.close()
    if row is None or row[0] != scope or row[1] != FOLD_VERSION or not row[2]:
        return 0
    stored = connection.execute(
        select(journal.c.hash).where(journal.c.seq == int(row[2]))).scalar_one_or_none()
    return int(row[2]) if stored is not None and stored == row[3] else 0


def keep(resumed: Resumed, scope: str, last_seq: int, head: str) -> None:
    """Mark the working copy as folded up to ``last_seq`` and make it the kept state."""
    db = sqlite3.connect(resumed.path, isolation_level=None)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS kept (scope TEXT NOT NULL, version TEXT NOT NULL, "
                   "last_seq INTEGER NOT NULL, head TEXT NOT NULL)")
        db.execute("DELETE FROM kept")
        db.execute("INSERT INTO kept VALUES (?, ?, ?, ?)", (scope, FOLD_VERSION, last_seq, head))
    finally:
        db.close()
    # on disk before it replaces the kept file: a crash leaves the old state or the new
    fd = os.open(resumed.path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(resumed.path, resumed.kept)


def discard(resumed: Resumed) -> None:
    resumed.path.unlink(missing_ok=True)
