"""Folded tables kept between backups (issue 20): a backup after the last one folds
only the entries added since and writes the same bytes as a backup that folds the
whole journal; a kept state that does not match the journal (another chain head,
another fold version, a damaged file) is discarded and the whole journal folded."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from services.backup import handlers
from services.backup.adapters import archive_io, kept_tables
from services.backup.adapters.table_fold import TABLE_TYPES, ScratchTables
from services.backup.adapters.tables import journal, journal_head
from services.backup.handlers import BackupContext, Outcome, create_request, make_backup
from services.backup.handlers import backup as making  # where make_backup looks them up
from services.backup.main import context_for
from shared.events.envelope import Event
from shared.settings import Settings
from tests.backup_support import backup_settings, fill_journal, small_school_events

pytestmark = pytest.mark.integration

SCOPE = "sch0001"


@pytest.fixture
def events() -> list[Event]:
    return small_school_events()


@pytest.fixture
def ctx(production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> Iterator[BackupContext]:
    context = context_for(backup_settings(migrated(production_settings), tmp_path))
    assert context.kept_tables is not None  # the service keeps them by default
    yield context
    context.engine.dispose()


@dataclass
class Seen:
    """What a backup did in its own process (the trial restore's work not counted)."""

    fed: list[int] = field(default_factory=list)         # entries folded into tables
    read_after: list[int] = field(default_factory=list)  # journal read after this seq

    def clear(self) -> None:
        self.fed.clear()
        self.read_after.clear()


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    found = Seen()
    writing: list[bool] = []
    original_feed, original_write = ScratchTables.feed, making.write_backup
    original_rows = archive_io._journal_rows

    def feed(self: ScratchTables, seq: int, event_type: str, body: bytes) -> None:
        if writing and event_type in TABLE_TYPES:
            found.fed.append(seq)
        original_feed(self, seq, event_type, body)

    def journal_rows(connection: Any, scope: str, upto: int | None = None,
                     after: int = 0) -> Iterator[tuple[Any, ...]]:
        if writing:
            found.read_after.append(after)
        return original_rows(connection, scope, upto, after)

    def write_backup(*args: Any, **kwargs: Any) -> Outcome:
        writing.append(True)
        try:
            return original_write(*args, **kwargs)
        finally:
            writing.clear()

    monkeypatch.setattr(ScratchTables, "feed", feed)
    monkeypatch.setattr(archive_io, "_journal_rows", journal_rows)
    monkeypatch.setattr(making, "write_backup", write_backup)
    return found


@pytest.fixture
def fed(seen: Seen) -> list[int]:
    return seen.fed


def backed_up(ctx: BackupContext, scope: str = SCOPE) -> Outcome:
    outcome = make_backup(ctx, create_request(ctx.engine, scope, "daily", "test", ctx.clock()))
    assert outcome.status == "verified", outcome.problems
    assert outcome.manifest is not None
    return outcome


def table_members(outcome: Outcome) -> dict[str, str]:
    assert outcome.manifest is not None
    found = {name: digest for name, digest in outcome.manifest.checksums.items()
             if name.startswith("tables/")}
    assert len(found) >= 10
    return found


def later_changes(events: list[Event]) -> list[Event]:
    """A day's new events that change what is folded already: a mark corrected,
    a mark deleted, a lesson deleted, and a few new entries."""
    marks = [e for e in events if e.type == "mark.recorded"]
    lessons = [e for e in events if e.type == "lesson.recorded"]
    latest = max(e.occurred_at for e in events) + timedelta(days=1)
    corrected = replace(marks[0], id=str(uuid.uuid4()), occurred_at=latest,
                        data={**marks[0].data, "value": 2})
    deleted_mark = replace(marks[1], id=str(uuid.uuid4()), type="mark.deleted",
                           occurred_at=latest, data={"mark_id": marks[1].data["mark_id"]})
    deleted_lesson = replace(lessons[0], id=str(uuid.uuid4()), type="lesson.deleted",
                             occurred_at=latest,
                             data={"lesson_id": lessons[0].data["lesson_id"]})
    new_marks = [replace(mark, id=str(uuid.uuid4()), occurred_at=latest,
                         data={**mark.data, "mark_id": f"{mark.data['mark_id']}-new"})
                 for mark in marks[2:40]]
    return [corrected, deleted_mark, deleted_lesson, *new_marks]


def table_seqs(ctx: BackupContext, after: int = 0) -> list[int]:
    with ctx.engine.connect() as connection:
        return list(connection.execute(select(journal.c.seq).where(
            journal.c.seq > after, journal.c.type.in_(TABLE_TYPES),
            journal.c.school_id.in_((SCOPE, "*"))).order_by(journal.c.seq)).scalars())


@pytest.mark.parametrize("first_by_worker", [False, True], ids=["here", "worker"])
def test_a_backup_after_new_events_folds_only_those_and_gives_the_same_tables(
        ctx: BackupContext, events: list[Event], seen: Seen, first_by_worker: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fed = seen.fed
    fill_journal(ctx.engine, events)
    with monkeypatch.context() as first:
        if first_by_worker:  # the first full fold in a worker process keeps its state too
            first.setattr(archive_io, "WORKER_ABOVE", 0)
        backed_up(ctx)
    folded_upto = max(table_seqs(ctx))
    assert seen.read_after == [0]
    seen.clear()
    fill_journal(ctx.engine, later_changes(events))
    again = backed_up(ctx)
    new = table_seqs(ctx, after=folded_upto)
    assert fed == new and len(new) == 41  # only the day's entries were folded
    assert seen.read_after == [folded_upto]  # and read from the journal

    whole = backed_up(replace(ctx, kept_tables=None))  # the whole journal folded
    assert table_members(again) == table_members(whole)
    assert again.manifest and whole.manifest
    assert again.manifest.checksums == whole.manifest.checksums
    assert again.manifest.counts == whole.manifest.counts
    assert again.manifest.time_range == whole.manifest.time_range
    assert again.manifest.chain == whole.manifest.chain


def _tamper_head(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kept SET head = 'ff' || substr(head, 3)")


def _tamper_version(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kept SET version = 'an-older-fold'")


def _garbage(path: Path) -> None:
    body = bytearray(path.read_bytes())
    for offset in range(0, len(body), 997):
        body[offset] ^= 0x5A
    path.write_bytes(bytes(body))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"not a database at all\n" * 100)


@pytest.mark.parametrize("damage", [_tamper_head, _tamper_version, _garbage, _truncate,
                                    _not_sqlite],
                         ids=["chain head differs", "other fold version", "corrupted pages",
                              "truncated", "not sqlite"])
def test_a_kept_state_that_does_not_match_is_discarded_and_the_whole_journal_folded(
        ctx: BackupContext, events: list[Event], fed: list[int],
        damage: Callable[[Path], None]) -> None:
    fill_journal(ctx.engine, events)
    backed_up(ctx)
    assert ctx.kept_tables is not None
    kept = kept_tables.kept_file(ctx.kept_tables, SCOPE)
    assert kept.exists()
    damage(kept)
    fill_journal(ctx.engine, later_changes(events))
    fed.clear()
    again = backed_up(ctx)
    assert fed == table_seqs(ctx)  # every table entry folded again
    whole = backed_up(replace(ctx, kept_tables=None))
    assert again.manifest and whole.manifest
    assert again.manifest.checksums == whole.manifest.checksums
    # and the state kept now is good again: the next backup folds nothing new
    fed.clear()
    backed_up(ctx)
    assert fed == []


def test_a_restored_journal_does_not_reuse_a_state_kept_for_another(
        ctx: BackupContext, events: list[Event], fed: list[int]) -> None:
    """The journal reset and filled with other events up to the same sequence
    numbers (a restore of another backup): the chain head differs, all is folded."""
    with ctx.engine.connect() as connection:
        genesis = connection.execute(select(journal_head.c.hash)).scalar_one()
    half = len(events) // 2
    fill_journal(ctx.engine, events[:half])
    backed_up(ctx)
    with ctx.engine.begin() as connection:
        connection.execute(delete(journal))
        connection.execute(update(journal_head).values(seq=0, hash=genesis))
    fill_journal(ctx.engine, events[half:] + events[:half])
    fed.clear()
    again = backed_up(ctx)
    assert fed == table_seqs(ctx)
    whole = backed_up(replace(ctx, kept_tables=None))
    assert again.manifest and whole.manifest
    assert again.manifest.checksums == whole.manifest.checksums


@pytest.mark.parametrize("member", ["events.jsonl", "chain.csv"])
@pytest.mark.parametrize("damage", [_garbage, _truncate], ids=["corrupted", "truncated"])
def test_a_damaged_kept_journal_file_is_read_again_from_the_journal(
        ctx: BackupContext, events: list[Event], seen: Seen, member: str,
        damage: Callable[[Path], None]) -> None:
    fill_journal(ctx.engine, events)
    backed_up(ctx)
    assert ctx.kept_tables is not None
    kept = kept_tables.kept_file(ctx.kept_tables, SCOPE)
    damage(kept.with_name(f"{kept.stem}.{member}"))
    folded_upto = max(table_seqs(ctx))
    fill_journal(ctx.engine, later_changes(events))
    seen.clear()
    again = backed_up(ctx)
    assert seen.read_after == [0]  # the whole journal read again
    assert seen.fed == table_seqs(ctx, after=folded_upto)  # the kept tables still good
    whole = backed_up(replace(ctx, kept_tables=None))
    assert again.manifest and whole.manifest
    assert again.manifest.checksums == whole.manifest.checksums
    assert again.manifest.counts == whole.manifest.counts
    assert again.manifest.time_range == whole.manifest.time_range
    assert again.manifest.chain == whole.manifest.chain


def test_a_backup_that_does_not_verify_drops_the_kept_state(
        ctx: BackupContext, events: list[Event], monkeypatch: pytest.MonkeyPatch) -> None:
    fill_journal(ctx.engine, events)
    backed_up(ctx)
    assert ctx.kept_tables is not None
    kept = kept_tables.kept_file(ctx.kept_tables, SCOPE)
    assert kept.exists()
    monkeypatch.setattr(making, "verify", lambda *_a, **_k: handlers.Verification(
        key="", ok=False, problems=["damaged"]))
    fill_journal(ctx.engine, later_changes(events))
    outcome = make_backup(ctx, create_request(ctx.engine, SCOPE, "daily", "test", ctx.clock()))
    assert outcome.status == "damaged"
    assert not list(ctx.kept_tables.iterdir())
