"""Streaming pieces of the backup (issue 20): chunked encryption as a stream, and the
derived tables folded in a scratch SQLite file giving the bytes of the in-memory fold."""

from __future__ import annotations

import io
import random
import secrets
from pathlib import Path

import pytest

from services.backup.adapters.crypto import (
    CHUNK,
    DecryptingReader,
    EncryptingWriter,
    WrongKey,
    decrypt_chunks,
    decrypted_stream,
    encrypt_file,
    new_key,
    parse_key,
)
from services.backup.adapters.table_fold import ScratchTables, write_tables
from services.backup.domain.archive import ArchiveDamaged, csv_line, csv_lines
from services.backup.domain.derived import TABLES, TableFolder
from services.backup.domain.journal import canonical
from tests.backup_support import small_school_events

KEY = parse_key(new_key())


class _Trickle(io.RawIOBase):
    """A network-like stream: short reads of at most 1,000 bytes."""

    def __init__(self, body: bytes) -> None:
        self._body, self._at = body, 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        size = min(len(target), 1000, len(self._body) - self._at)
        target[:size] = self._body[self._at:self._at + size]
        self._at += size
        return size


def streamed(plain: bytes, writes: int = 7) -> bytes:
    out = io.BytesIO()
    writer = EncryptingWriter(out, KEY)
    step = max(1, len(plain) // writes)
    for start in range(0, len(plain), step):
        writer.write(plain[start:start + step])
    writer.close()
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_the_streaming_writer_writes_the_format_the_whole_file_encryption_writes(
        tmp_path: Path, size: int) -> None:
    plain = secrets.token_bytes(size)
    body = streamed(plain)
    source = tmp_path / "plain"
    source.write_bytes(plain)
    # same layout (the nonce prefix is random, so compare lengths and contents)
    assert len(body) == len(encrypt_file(source, KEY))
    assert b"".join(decrypt_chunks(body, KEY)) == plain
    assert b"".join(decrypted_stream(_Trickle(body), KEY)) == plain  # type: ignore[arg-type]
    reader = DecryptingReader(io.BytesIO(body), KEY)
    assert reader.read() == plain


def test_archives_sealed_before_streaming_still_open(tmp_path: Path) -> None:
    plain = secrets.token_bytes(2 * CHUNK + 17)
    source = tmp_path / "plain"
    source.write_bytes(plain)
    old = encrypt_file(source, KEY)
    assert b"".join(decrypted_stream(io.BytesIO(old), KEY)) == plain


def test_a_stream_cut_at_a_chunk_boundary_or_inside_a_chunk_is_refused() -> None:
    body = streamed(secrets.token_bytes(3 * CHUNK + 5))
    chunk = 4 + CHUNK + 16
    for cut in (23 + chunk, 23 + 2 * chunk, 23 + 3 * chunk, len(body) - 1, 30):
        with pytest.raises(ArchiveDamaged):
            b"".join(decrypted_stream(io.BytesIO(body[:cut]), KEY))


def test_a_chunk_dropped_swapped_or_appended_is_refused() -> None:
    body = streamed(secrets.token_bytes(3 * CHUNK + 5))
    header, chunk = body[:23], 4 + CHUNK + 16
    chunks = [body[23 + n * chunk:23 + (n + 1) * chunk] for n in range(3)]
    tail = body[23 + 3 * chunk:]
    for damaged in (header + chunks[0] + chunks[2] + tail,
                    header + chunks[1] + chunks[0] + chunks[2] + tail,
                    body + chunks[0]):
        with pytest.raises(ArchiveDamaged):
            b"".join(decrypted_stream(io.BytesIO(damaged), KEY))


def test_a_wrong_key_is_named_before_any_chunk_is_opened() -> None:
    body = streamed(b"x" * 100)
    with pytest.raises(WrongKey):
        next(decrypted_stream(io.BytesIO(body), parse_key(new_key())))


def _in_memory_tables(folder: TableFolder) -> dict[str, bytes]:
    return {spec.name: csv_line(spec.columns) + csv_lines(folder.rows(spec)) for spec in TABLES}


def _corrections(bodies: list[tuple[int, str, bytes]]) -> list[tuple[int, str, bytes]]:
    """Later versions of some entities, deletions, and an entity brought back."""
    extra, seq = [], len(bodies) + 1000
    import orjson

    for _, event_type, body in bodies[::97]:
        envelope = orjson.loads(body)
        later = {**envelope, "occurred_at": "2027-06-01T10:00:00+06:00"}
        if event_type == "mark.recorded":
            later["data"] = {**envelope["data"], "value": "2"}
            extra.append((seq, "mark.recorded", canonical(later)))
            seq += 1
            deletion = {**later, "type": "mark.deleted", "occurred_at": "2027-06-02T10:00:00+06:00",
                        "data": {"mark_id": envelope["data"].get("mark_id")}}
            extra.append((seq, "mark.deleted", canonical(deletion)))
        elif event_type == "lesson.recorded":
            deletion = {**later, "type": "lesson.deleted",
                        "data": {"lesson_id": envelope["data"].get("lesson_id")}}
            extra.append((seq, "lesson.deleted", canonical(deletion)))
            seq += 1
            back = {**envelope, "occurred_at": "2027-06-03T10:00:00+06:00"}
            extra.append((seq, "lesson.recorded", canonical(back)))
        elif event_type == "subject.plan":
            later["data"] = {**envelope["data"], "subject_name": "Другое название"}
            extra.append((seq, "subject.plan", canonical(later)))
        seq += 1
    return extra


def test_the_scratch_fold_gives_the_in_memory_fold_s_bytes_in_any_order(tmp_path: Path) -> None:
    bodies = [(seq, event.type, canonical(event.to_envelope()))
              for seq, event in enumerate(small_school_events(), start=1)]
    bodies += _corrections(bodies)
    expected = TableFolder()
    for seq, event_type, body in bodies:
        expected.feed(seq, event_type, body)
    wanted = _in_memory_tables(expected)
    assert sum(len(table) for table in wanted.values()) > 100_000  # a real school's tables

    shuffled = bodies[:]
    random.Random(20).shuffle(shuffled)  # arrival order does not matter
    for attempt, order in enumerate((bodies, shuffled)):
        folded = ScratchTables(tmp_path / f"fold{attempt}.sqlite3")
        for seq, event_type, body in order:
            folded.feed(seq, event_type, body)
        written = write_tables(folded, tmp_path / f"out{attempt}")
        folded.close()
        for table in written:
            name = table.name.removeprefix("tables/").removesuffix(".csv")
            assert (tmp_path / f"out{attempt}" / table.name).read_bytes() == wanted[name], name
            assert table.rows == expected.counts()[name]
