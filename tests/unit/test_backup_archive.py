"""The backup archive's pure parts: encryption, manifest, chain checks, derived tables."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from services.backup.adapters.crypto import (
    CHUNK,
    WrongKey,
    decrypt_chunks,
    encrypt_file,
    new_key,
    parse_key,
)
from services.backup.domain.archive import (
    ALL_SCHOOLS,
    ArchiveDamaged,
    ChainCheck,
    JournalEntry,
    Manifest,
    Member,
    archive_key,
    chain_line,
    compare_members,
    csv_line,
    events_line,
    parse_journal,
)
from services.backup.domain.derived import TABLES, TableFolder
from services.backup.domain.journal import GENESIS, canonical, chain_hash

KEY = parse_key(new_key())


def sealed(tmp_path: Path, size: int) -> tuple[bytes, bytes]:
    plain = secrets.token_bytes(size)
    source = tmp_path / "plain"
    source.write_bytes(plain)
    return plain, encrypt_file(source, KEY)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 5])
def test_encryption_round_trips_at_chunk_boundaries(tmp_path: Path, size: int) -> None:
    plain, body = sealed(tmp_path, size)
    assert b"".join(decrypt_chunks(body, KEY)) == plain


def test_every_flipped_byte_is_detected(tmp_path: Path) -> None:
    _, body = sealed(tmp_path, 3000)
    for position in range(0, len(body), 37):
        damaged = bytearray(body)
        damaged[position] ^= 0x01
        with pytest.raises(ArchiveDamaged):
            b"".join(decrypt_chunks(bytes(damaged), KEY))


def test_truncation_and_dropped_chunks_are_detected(tmp_path: Path) -> None:
    _, body = sealed(tmp_path, 2 * CHUNK + 10)
    first_chunk_end = 23 + 4 + CHUNK + 16
    for cut in (body[:-1], body[:first_chunk_end], body[:40]):
        with pytest.raises(ArchiveDamaged):
            b"".join(decrypt_chunks(cut, KEY))


def test_a_wrong_key_is_named_as_such(tmp_path: Path) -> None:
    _, body = sealed(tmp_path, 100)
    with pytest.raises(WrongKey):
        b"".join(decrypt_chunks(body, parse_key(new_key())))


def test_keys_must_be_32_bytes_of_base64() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        parse_key("c2hvcnQ=")
    with pytest.raises(ValueError, match="base64"):
        parse_key("not base64!")


def entries(count: int, school: str = "s1") -> list[JournalEntry]:
    found, previous = [], GENESIS
    now = datetime(2026, 9, 1, 8, tzinfo=UTC)
    for seq in range(1, count + 1):
        body = canonical({"id": f"e{seq}", "type": "t", "school_id": school,
                          "occurred_at": now.isoformat(), "data": {"n": seq, "s": "a,\"b\"\nc"}})
        entry_hash = chain_hash(previous, body)
        found.append(JournalEntry(seq, f"e{seq}", school, "t", now, now, body, previous,
                                  entry_hash))
        previous = entry_hash
    return found


def test_journal_members_parse_back_to_the_same_entries() -> None:
    original = entries(5)
    chain = (csv_line(("seq", "event_id", "school_id", "type", "occurred_at", "recorded_at",
                       "prev_hash", "hash")) + b"".join(chain_line(e) for e in original))
    events = b"".join(events_line(e) for e in original)
    back = list(parse_journal(chain.decode().splitlines(keepends=True),
                              events.splitlines(keepends=True)))
    assert back == original


def test_mismatched_journal_members_are_damage() -> None:
    original = entries(3)
    chain = (csv_line(("seq", "event_id", "school_id", "type", "occurred_at", "recorded_at",
                       "prev_hash", "hash")) + b"".join(chain_line(e) for e in original))
    events = b"".join(events_line(e) for e in original[:2])
    with pytest.raises(ArchiveDamaged):
        list(parse_journal(chain.decode().splitlines(keepends=True),
                           events.splitlines(keepends=True)))


def test_chain_check_whole_and_subset() -> None:
    whole = ChainCheck(whole_chain=True)
    for entry in entries(4):
        whole.feed(entry)
    assert whole.problem is None and whole.count == 4
    gap = ChainCheck(whole_chain=True)
    subset = ChainCheck(whole_chain=False)
    for entry in entries(4)[::2]:
        gap.feed(entry)
        subset.feed(entry)
    assert gap.problem is not None and "link" in gap.problem
    assert subset.problem is None
    altered = entries(3)
    altered[1] = JournalEntry(**{**altered[1].__dict__, "body": b"{}"})
    check = ChainCheck(whole_chain=False)
    for entry in altered:
        check.feed(entry)
    assert check.problem == "entry 2's hash does not match its body"


def test_manifest_round_trip_and_refusals() -> None:
    manifest = Manifest("b1", ALL_SCHOOLS, "daily", datetime(2026, 11, 28, tzinfo=UTC),
                        [Member("journal/events.jsonl", 10, "ab" * 32)], {"events": 1},
                        {"first_seq": 1}, {"head": "x"})
    assert Manifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(ArchiveDamaged):
        Manifest.from_json(b"{not json")
    with pytest.raises(ArchiveDamaged, match="format version"):
        Manifest.from_json(orjson.dumps({**orjson.loads(manifest.to_json()),
                                         "format_version": 99}))


def test_compare_members_names_each_difference() -> None:
    assert compare_members({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "x", "d": "4"}) == [
        "c: missing", "d: not in the manifest", "b: checksum differs"]


def test_archive_keys() -> None:
    moment = datetime(2026, 11, 28, 2, 0, 5, tzinfo=UTC)
    assert archive_key("*", "daily", moment, "bk1") == "backups/all/20261128T020005Z-daily-bk1.kzb"
    assert archive_key("sch1", "manual", moment, "bk2").startswith("backups/sch1/")


def envelope(event_type: str, occurred: str, data: dict[str, object]) -> bytes:
    return canonical({"id": "x", "type": event_type, "school_id": "s1",
                      "occurred_at": occurred, "data": data})


def test_derived_tables_take_the_latest_version_and_deletions() -> None:
    folder = TableFolder()
    mark = {"mark_id": "m1", "student_id": "st1", "class_id": "5a", "subject_id": "math",
            "teacher_id": "t1", "date": "2026-09-02", "value": "4"}
    # arrival order differs from occurred_at order: the later correction still wins
    folder.feed(2, "mark.recorded", envelope("mark.recorded", "2026-09-03T10:00:00+06:00",
                                             {**mark, "value": "5"}))
    folder.feed(1, "mark.recorded", envelope("mark.recorded", "2026-09-02T10:00:00+06:00",
                                             mark))
    folder.feed(3, "mark.recorded", envelope("mark.recorded", "2026-09-02T10:00:00+06:00",
                                             {**mark, "mark_id": "m2"}))
    folder.feed(4, "mark.deleted", envelope("mark.deleted", "2026-09-04T10:00:00+06:00",
                                            {"mark_id": "m2"}))
    folder.feed(5, "lesson.recorded", envelope("lesson.recorded", "2026-09-02T10:00:00+06:00", {
        "lesson_id": "l1", "class_id": "5a", "subject_id": "math", "date": "2026-09-02",
        "period": 1, "teacher_id": "t1", "topic": "Дроби"}))
    folder.feed(6, "attendance.recorded", envelope(
        "attendance.recorded", "2026-09-02T10:00:00+06:00",
        {"lesson_id": "l1", "absent": [{"student_id": "st2", "reason": "illness"}],
         "late": ["st3"]}))
    folder.feed(7, "unknown.type", envelope("unknown.type", "2026-09-02T10:00:00+06:00", {}))
    marks = folder.rows(next(t for t in TABLES if t.name == "marks"))
    assert [(row[1], row[8]) for row in marks] == [("m1", "5")]
    attendance = folder.rows(next(t for t in TABLES if t.name == "attendance"))
    assert attendance == [("s1", "l1", "st2", "absent", "illness"),
                          ("s1", "l1", "st3", "late", None)]
    assert folder.counts()["lessons"] == 1
