"""Folded tables kept between backups (issue 20): a backup after the last one folds
only the entries added since and writes the same bytes as a backup that folds the
whole journal; a kept state that does not match the journal (another chain head,
another fold version, a damaged file) is discarded and the whole journal folded."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
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


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sequence numbers a backup folds into its tables in its own process
    (the trial restore's fold, from its scratch database, not counted)."""
    seen: list[int] = []
    writing: list[bool] = []
    original_feed, original_write = ScratchTables.feed, handlers.write_backup

    def feed(self: ScratchTables, seq: int, event_type: str, body: bytes) -> None:
        if writing and event_type in TABLE_TYPES:
            seen.append(seq)
        original_feed(self, seq, event_type, body)

    def write_backup(*args: Any, **kwargs: Any) -> Outcome:
        writing.append(True)
        try:
            return original_write(*args, **kwargs)
        finally:
            writing.clear()

    monkeypatch.setattr(ScratchTables, "feed", feed)
    monkeypatch.setattr(handlers, "write_backup", write_backup)
    return seen


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
        ctx: BackupContext, events: list[Event], fed: list[int], first_by_worker: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fill_journal(ctx.engine, events)
    with monkeypatch.context() as first:
        if first_by_worker:  # the first full fold in a worker process keeps its state too
            first.setattr(archive_io, "WORKER_ABOVE", 0)
        backed_up(ctx)
    folded_upto = max(table_seqs(ctx))
    fed.clear()
    fill_journal(ctx.engine, later_changes(events))
    again = backed_up(ctx)
    new = table_seqs(ctx, after=folded_upto)
    assert fed == new and len(new) == 41  # only the day's entries were folded

    whole = backed_up(replace(ctx, kept_tables=None))  # the whole journal folded
    assert table_members(again) == table_members(whole)
    assert again.manifest and whole.manifest
    assert again.manifest.checksums == whole.manifest.checksums
    assert again.manifest.counts == whole.manifest.counts


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
