"""What a scope's last backup made of the journal, kept between backups, so the
next one reads, checks and folds only the journal entries added since (issue 20):
the folded tables, and the journal members (``events.jsonl``, ``chain.csv``) with
what the manifest says of them.

The kept state is the scratch SQLite file of :mod:`table_fold` (every entity's
winner, deletions included, so folding more entries on top gives what folding
the whole journal gives) plus one row saying up to which journal entry it was
folded and that entry's chain hash. The journal is append-only and
hash-chained: if the entry at that sequence number still has that hash, every
entry up to it is the one that was folded. Anything else (a restore, a reset,
another fold version, a file that SQLite cannot read) and the state is
discarded and the tables folded from scratch.

Per scope in the kept folder (beside the service's data): the SQLite file, which
also holds the journal summary with both journal files' sizes and SHA-256, and
the two journal files. A backup works on copies (the journal files are hashed
while copied: a damaged kept file is found there) and they replace the kept
files only once the archive is stored; the SQLite file is replaced last, so a
crash between the replacements leaves journal files that do not match its
summary, and the state is discarded.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from services.backup.adapters.tables import journal
from services.backup.domain.derived import TABLES

#: what a kept state was folded by: the tables' names, columns and sort columns,
#: and this number, raised when the fold's rules change without them changing
FOLD_RULES = 2
FOLD_VERSION = hashlib.sha256(repr(
    (FOLD_RULES, [(spec.name, spec.columns, spec.identity, spec.recorded, spec.deleted)
                  for spec in TABLES])).encode()).hexdigest()[:16]


def kept_file(folder: Path, scope: str) -> Path:
    """The scope's kept state (the scope is hashed: a school id is not a file name)."""
    return folder / f"tables-{hashlib.sha256(scope.encode()).hexdigest()[:24]}.sqlite3"


#: the journal members kept beside the tables, by their names in the archive
JOURNAL_FILES = {"journal/events.jsonl": "events.jsonl", "journal/chain.csv": "chain.csv"}


@dataclass
class Resumed:
    """Where a backup folds its tables and writes its journal members, and up to
    which entry the kept state has them already (``after``; 0: nothing kept)."""

    path: Path        # the tables: a working copy beside the kept file (or a new file)
    after: int
    kept: Path        # the scope's kept SQLite file, replaced by ``path`` on success
    #: what the manifest says of the kept journal (counts, types, times), when kept
    journal: dict[str, Any] = field(default_factory=dict)

    def work(self, name: str) -> Path:
        """The working copy of a journal member (``journal/events.jsonl``…)."""
        return self.path.with_name(f"{self.path.stem}.{JOURNAL_FILES[name]}")

    def kept_journal(self, name: str) -> Path:
        return self.kept.with_name(f"{self.kept.stem}.{JOURNAL_FILES[name]}")


def resume(connection: Connection, folder: Path, scope: str) -> Resumed:
    """A working copy of the scope's kept state if it matches the journal, else a new file."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = kept_file(folder, scope)
    work = kept.with_name(f"{kept.stem}.{secrets.token_hex(4)}.tmp")
    after, summary = 0, dict[str, Any]()
    if kept.exists():
        try:
            shutil.copyfile(kept, work)
            after, summary = _folded_upto(connection, work, scope)
        except (OSError, sqlite3.DatabaseError, ValueError):
            after = 0
        if not after:
            work.unlink(missing_ok=True)
    return Resumed(work, after, kept, summary if after else {})


def _folded_upto(connection: Connection, path: Path,
                 scope: str) -> tuple[int, dict[str, Any]]:
    """The kept state's last sequence number and journal summary if the journal
    still has that entry with the same hash; 0 when it does not, or the file is
    not a kept state."""
    db = sqlite3.connect(path)
    try:
        # a damaged page shows here, not halfway through the tables
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            return 0, {}
        row = db.execute("SELECT scope, version, last_seq, head, journal FROM kept").fetchone()
        db.execute("SELECT count(*) FROM winners").fetchone()
    finally:
        db.close()
    if row is None or row[0] != scope or row[1] != FOLD_VERSION or not row[2]:
        return 0, {}
    stored = connection.execute(
        select(journal.c.hash).where(journal.c.seq == int(row[2]))).scalar_one_or_none()
    if stored is None or stored != row[3]:
        return 0, {}
    return int(row[2]), json.loads(row[4])


def copy_journal(resumed: Resumed, name: str, out: Any) -> bool:
    """The kept journal member into ``out`` (a hashing file), hashed on the way:
    False when it is not the file the summary describes (``out`` must then be
    written anew)."""
    expected = resumed.journal["files"][name]
    digest = hashlib.sha256()
    size = 0
    try:
        with open(resumed.kept_journal(name), "rb") as source:
            while block := source.read(1 << 20):
                digest.update(block)
                size += len(block)
                out.write(block)
    except OSError:
        return False
    return size == expected["size"] and digest.hexdigest() == expected["sha256"]


def keep(resumed: Resumed, scope: str, last_seq: int, head: str,
         summary: dict[str, Any]) -> None:
    """Mark the working copies as the state up to ``last_seq`` and make them the kept state."""
    db = sqlite3.connect(resumed.path, isolation_level=None)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS kept (scope TEXT NOT NULL, version TEXT NOT NULL, "
                   "last_seq INTEGER NOT NULL, head TEXT NOT NULL, journal TEXT NOT NULL)")
        db.execute("DELETE FROM kept")
        db.execute("INSERT INTO kept VALUES (?, ?, ?, ?, ?)",
                   (scope, FOLD_VERSION, last_seq, head, json.dumps(summary)))
    finally:
        db.close()
    # on disk before they replace the kept files: a crash leaves the old state or the new
    for name in JOURNAL_FILES:
        _fsync(resumed.work(name))
    _fsync(resumed.path)
    for name in JOURNAL_FILES:
        os.replace(resumed.work(name), resumed.kept_journal(name))
    os.replace(resumed.path, resumed.kept)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard(resumed: Resumed) -> None:
    resumed.path.unlink(missing_ok=True)
    for name in JOURNAL_FILES:
        resumed.work(name).unlink(missing_ok=True)


def forget(folder: Path, scope: str) -> None:
    """Drop the scope's kept state (its backup did not verify): the next folds anew."""
    kept = kept_file(folder, scope)
    kept.unlink(missing_ok=True)
    for name in JOURNAL_FILES.values():
        kept.with_name(f"{kept.stem}.{name}").unlink(missing_ok=True)
