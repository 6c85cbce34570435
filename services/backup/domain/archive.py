"""The backup archive: its members, its manifest and how both are checked (pure).

An archive is a tar stream whose first member is ``manifest.json``; the rest
are listed in the manifest with their size and SHA-256:

- ``journal/events.jsonl``: the journal record's canonical event bodies, one a
  line, in sequence order (exactly the bytes the hash chain covers);
- ``journal/chain.csv``: per entry, in the same order: sequence number, event
  id, school, type, ``occurred_at``, ``recorded_at``, ``prev_hash``, ``hash``;
- ``tables/*.csv``: current-state tables derived from the events (lessons,
  marks, attendance, rosters…), readable without Kozomol;
- ``pdf/<school>/…``: the printed documents present in the file store.

The tar stream is compressed with zstd and encrypted (AES-256-GCM in chunks);
see ``docs/backup.md``.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from services.backup.domain.journal import GENESIS, chain_hash
from shared.events.messages import ALL_SCHOOLS

FORMAT = "kozomol-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EVENTS = "journal/events.jsonl"
CHAIN = "journal/chain.csv"
CHAIN_COLUMNS = ("seq", "event_id", "school_id", "type", "occurred_at", "recorded_at",
                 "prev_hash", "hash")
KINDS = ("daily", "half_year", "year_end", "manual")


class ArchiveDamaged(Exception):
    """The archive cannot be trusted: wrong key, changed bytes, missing or altered members."""


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    event_id: str
    school_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    body: bytes
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str


@dataclass
class Manifest:
    backup_id: str
    scope: str
    kind: str
    created_at: datetime
    members: list[Member]
    counts: dict[str, Any] = field(default_factory=dict)
    time_range: dict[str, Any] = field(default_factory=dict)
    chain: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return orjson.dumps({
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "backup_id": self.backup_id, "scope": self.scope, "kind": self.kind,
            "created_at": iso(self.created_at), "time_range": self.time_range,
            "counts": self.counts, "chain": self.chain,
            "members": [{"name": m.name, "size": m.size, "sha256": m.sha256}
                        for m in self.members],
        }, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_json(cls, body: bytes) -> Manifest:
        try:
            data = orjson.loads(body)
            if data.get("format") != FORMAT:
                raise ArchiveDamaged("not a Kozomol backup (manifest format)")
            if data.get("format_version") != FORMAT_VERSION:
                raise ArchiveDamaged(f"unsupported format version {data.get('format_version')}")
            return cls(
                backup_id=str(data["backup_id"]), scope=str(data["scope"]),
                kind=str(data["kind"]), created_at=datetime.fromisoformat(data["created_at"]),
                members=[Member(str(m["name"]), int(m["size"]), str(m["sha256"]))
                         for m in data["members"]],
                counts=dict(data["counts"]), time_range=dict(data["time_range"]),
                chain=dict(data["chain"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ArchiveDamaged(f"the manifest is unreadable: {exc}") from exc

    @property
    def checksums(self) -> dict[str, str]:
        return {member.name: member.sha256 for member in self.members}


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds; naive values (SQLite) are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


def events_line(entry: JournalEntry) -> bytes:
    # canonical bodies are single-line JSON (orjson escapes newlines in strings)
    return entry.body + b"\n"


def chain_line(entry: JournalEntry) -> bytes:
    return csv_line(chain_row(entry))


def csv_line(values: Iterable[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return out.getvalue().encode()


def csv_lines(rows: Iterable[Iterable[Any]]) -> bytes:
    """Many CSV rows at once (one writer for all: much cheaper than a line at a time)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        ["" if v is None else v for v in row] for row in rows)
    return out.getvalue().encode()


def chain_row(entry: JournalEntry) -> tuple[Any, ...]:
    return (entry.seq, entry.event_id, entry.school_id, entry.type, iso(entry.occurred_at),
            iso(entry.recorded_at), entry.prev_hash, entry.hash)


def parse_journal(chain_lines: Iterable[str], event_lines: Iterable[bytes],
                  ) -> Iterator[JournalEntry]:
    """Entries back from ``chain.csv`` (header included) and ``events.jsonl``, side by side."""
    rows = csv.reader(chain_lines)
    header = next(rows, None)
    if header is None or tuple(header) != CHAIN_COLUMNS:
        raise ArchiveDamaged("journal/chain.csv has no valid header")
    bodies = iter(event_lines)
    for row in rows:
        body = next(bodies, None)
        if body is None or len(row) != len(CHAIN_COLUMNS):
            raise ArchiveDamaged("journal/chain.csv and events.jsonl do not match")
        try:
            yield JournalEntry(
                seq=int(row[0]), event_id=row[1], school_id=row[2], type=row[3],
                occurred_at=datetime.fromisoformat(row[4]),
                recorded_at=datetime.fromisoformat(row[5]),
                body=body.rstrip(b"\n"), prev_hash=row[6], hash=row[7])
        except ValueError as exc:
            raise ArchiveDamaged(f"journal/chain.csv row is malformed: {exc}") from exc
    if next(bodies, None) is not None:
        raise ArchiveDamaged("journal/events.jsonl has more lines than chain.csv")


#: many entries share a time (a batch's recorded_at, a lesson's occurred_at)
_parse_time = functools.lru_cache(maxsize=4096)(datetime.fromisoformat)


def check_journal(chain_lines: Iterable[str], event_lines: Iterable[bytes],
                  check: ChainCheck) -> None:
    """What :func:`parse_journal` and :class:`ChainCheck` do together, without
    building the entries (the reading check after every backup): every record of
    ``chain.csv`` decoded (sequence number, both times), beside its line of
    ``events.jsonl``, and fed to ``check``."""
    rows = csv.reader(chain_lines)
    header = next(rows, None)
    if header is None or tuple(header) != CHAIN_COLUMNS:
        raise ArchiveDamaged("journal/chain.csv has no valid header")
    bodies = iter(event_lines)
    feed, width = check.feed_values, len(CHAIN_COLUMNS)
    for row in rows:
        body = next(bodies, None)
        if body is None or len(row) != width:
            raise ArchiveDamaged("journal/chain.csv and events.jsonl do not match")
        try:
            seq = int(row[0])
            _parse_time(row[4])
            _parse_time(row[5])
        except ValueError as exc:
            raise ArchiveDamaged(f"journal/chain.csv row is malformed: {exc}") from exc
        feed(seq, body.rstrip(b"\n"), row[6], row[7])
    if next(bodies, None) is not None:
        raise ArchiveDamaged("journal/events.jsonl has more lines than chain.csv")


@dataclass
class ChainCheck:
    """Checks the entries of an archive while they stream past.

    A backup of every school holds the whole chain: each entry must link to
    the one before, from the genesis. A school's backup holds a subset, whose
    links point at other schools' entries: each entry's own hash is checked.
    """

    whole_chain: bool
    previous: str = GENESIS
    last_seq: int = 0
    count: int = 0
    problem: str | None = None

    def feed(self, entry: JournalEntry) -> None:
        self.feed_values(entry.seq, entry.body, entry.prev_hash, entry.hash)

    def feed_values(self, seq: int, body: bytes, prev_hash: str, entry_hash: str) -> None:
        """:meth:`feed` without building an entry (writing a backup reads plain rows)."""
        self.count += 1
        if self.problem is not None:
            return
        if seq <= self.last_seq:
            self.problem = f"entry {seq} is out of sequence order"
        elif self.whole_chain and prev_hash != self.previous:
            self.problem = f"entry {seq} does not link to the entry before it"
        elif chain_hash(prev_hash, body) != entry_hash:
            self.problem = f"entry {seq}'s hash does not match its body"
        self.previous, self.last_seq = entry_hash, seq


def compare_members(expected: Mapping[str, str], found: Mapping[str, str]) -> list[str]:
    """Differences between the manifest's checksums and the members found."""
    problems = [f"{name}: missing" for name in sorted(set(expected) - set(found))]
    problems += [f"{name}: not in the manifest" for name in sorted(set(found) - set(expected))]
    problems += [f"{name}: checksum differs" for name in sorted(set(expected) & set(found))
                 if expected[name] != found[name]]
    return problems


def archive_key(scope: str, kind: str, created_at: datetime, backup_id: str) -> str:
    """``backups/<scope>/<UTC time>-<kind>-<id>.kzb`` (``all`` for every school)."""
    folder = "all" if scope == ALL_SCHOOLS else scope
    return f"backups/{folder}/{created_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{kind}-{backup_id}.kzb"
