"""Backups on the real PostgreSQL: make, verify, restore into an empty database,
back up again with identical members; damage and wrong keys are refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from services.backup.adapters import journal_store
from services.backup.adapters.crypto import new_key, parse_key
from services.backup.adapters.tables import backups, inbox, journal, outbox
from services.backup.domain.archive import ArchiveDamaged
from services.backup.domain.journal import first_break
from services.backup.handlers import (
    BackupContext,
    Outcome,
    RestoreRefused,
    create_request,
    make_backup,
    restore,
    verify,
)
from services.backup.main import context_for
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES, Settings
from tests.backup_support import (
    backup_settings,
    empty_database,
    fill_journal,
    small_school_events,
)

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n% a printed class journal\n%%EOF\n"


@pytest.fixture
def ctx(production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> Iterator[BackupContext]:
    settings = backup_settings(migrated(production_settings), tmp_path)
    context = context_for(settings)
    fill_journal(context.engine, small_school_events())
    assert context.files is not None
    context.files.put("pdf/sch0001/journal-5a.pdf", PDF)
    context.files.put("pdf/other/journal.pdf", b"%PDF other school")
    yield context
    context.engine.dispose()


def backed_up(ctx: BackupContext, scope: str = "*") -> Outcome:
    outcome = make_backup(ctx, create_request(ctx.engine, scope, "manual", "test", ctx.clock()))
    assert outcome.status == "verified", outcome.problems
    return outcome


def count(engine: object, table: object) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_backup_verify_restore_and_back_up_again(ctx: BackupContext) -> None:
    outcome = backed_up(ctx)
    assert outcome.manifest is not None
    names = set(outcome.manifest.checksums)
    assert {"journal/events.jsonl", "journal/chain.csv", "tables/marks.csv",
            "tables/lessons.csv", "tables/attendance.csv", "tables/rosters.csv",
            "pdf/sch0001/journal-5a.pdf", "pdf/other/journal.pdf"} <= names
    source_events = count(ctx.engine, journal)
    assert outcome.events == source_events > 1000
    # announced: completed, then verified
    with ctx.engine.connect() as connection:
        announced = [orjson.loads(body) for body in connection.execute(
            select(outbox.c.body).order_by(outbox.c.seq)).scalars()]
    assert [e["type"] for e in announced] == ["backup.completed", "backup.verified"]
    assert announced[1]["data"]["ok"] is True
    assert verify(ctx, outcome.key or "").ok

    with empty_database() as url:
        upgrade(url, "backup", SERVICES)
        target = make_engine(url)
        try:
            restored = restore(ctx, outcome.key or "", target)
            assert restored.events == source_events
            with target.connect() as connection:
                assert first_break(journal_store.entries(connection)) is None
            assert count(target, inbox) == source_events  # a replay is not journaled twice

            # A fresh backup of the restored data has the same members, byte for byte.
            again = backed_up(replace(ctx, engine=target))
            assert again.manifest is not None
            assert again.manifest.checksums == outcome.manifest.checksums

            # The service works on the restored record: appends extend the same chain.
            with target.begin() as connection:
                journal_store.append(connection, [Event.from_envelope({
                    "id": "evt_after_restore", "type": "lesson.deleted", "school_id": "sch0001",
                    "occurred_at": "2026-11-28T10:00:00+06:00",
                    "data": {"lesson_id": "l-x"}})])
            with target.connect() as connection:
                assert first_break(journal_store.entries(connection)) is None

            # Restoring into a database that is not empty is refused.
            with pytest.raises(RestoreRefused):
                restore(ctx, outcome.key or "", target)
        finally:
            target.dispose()


def test_a_school_backup_holds_that_school_only(ctx: BackupContext) -> None:
    with ctx.engine.begin() as connection:
        journal_store.append(connection, [Event.from_envelope({
            "id": "evt_other_1", "type": "teacher.profile", "school_id": "other",
            "occurred_at": "2026-09-01T08:00:00+06:00",
            "data": {"teacher_id": "t9", "full_name": "Асанова Айгуль"}})])
    outcome = backed_up(ctx, "sch0001")
    assert outcome.manifest is not None
    assert outcome.events == count(ctx.engine, journal) - 1
    assert "pdf/other/journal.pdf" not in outcome.manifest.checksums
    assert outcome.key and outcome.key.startswith("backups/sch0001/")
    with empty_database() as url:
        upgrade(url, "backup", SERVICES)
        target = make_engine(url)
        try:
            assert restore(ctx, outcome.key, target).events == outcome.events
        finally:
            target.dispose()


@pytest.mark.parametrize("where", [0.001, 0.5, 0.999])
def test_a_flipped_byte_is_reported_and_never_restored(ctx: BackupContext,
                                                       where: float) -> None:
    outcome = backed_up(ctx)
    key = outcome.key or ""
    body = bytearray(ctx.archives.get(key))
    body[int(len(body) * where)] ^= 0x10
    ctx.archives.put(key, bytes(body))
    result = verify(ctx, key)
    assert not result.ok
    assert result.problems and any("damaged" in p or "another key" in p
                                   for p in result.problems)
    with empty_database() as url:
        upgrade(url, "backup", SERVICES)
        target = make_engine(url)
        try:
            with pytest.raises(ArchiveDamaged):
                restore(ctx, key, target)
            assert count(target, journal) == 0
        finally:
            target.dispose()


def test_a_wrong_key_is_refused(ctx: BackupContext) -> None:
    outcome = backed_up(ctx)
    stranger = replace(ctx, key=parse_key(new_key()))
    result = verify(stranger, outcome.key or "")
    assert not result.ok and "another key" in result.problems[0]
    with empty_database() as url:
        upgrade(url, "backup", SERVICES)
        target = make_engine(url)
        try:
            with pytest.raises(ArchiveDamaged, match="another key"):
                restore(stranger, outcome.key or "", target)
            assert count(target, journal) == 0
        finally:
            target.dispose()


def test_an_archive_changed_in_the_store_is_marked_damaged(
        ctx: BackupContext) -> None:
    """Verify-after-backup reads the stored bytes back: a store that changed them is caught."""
    backup_id = create_request(ctx.engine, "*", "manual", "test", ctx.clock())
    original_put = ctx.archives.put

    def corrupting_put(key: str, body: bytes) -> None:
        damaged = bytearray(body)
        damaged[len(damaged) // 2] ^= 1
        original_put(key, bytes(damaged))

    ctx.archives.put = corrupting_put  # type: ignore[method-assign]
    outcome = make_backup(ctx, backup_id)
    assert outcome.status == "damaged"
    with ctx.engine.connect() as connection:
        row = connection.execute(select(backups).where(backups.c.id == backup_id)).one()
    assert row.status == "damaged" and row.error


def test_restored_events_replay_to_the_other_services(ctx: BackupContext,
                                                      production_settings: Settings) -> None:
    from services.backup.handlers import replay
    from shared.events.schemas import DATA_SCHEMAS
    from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
    from shared.messaging.topology import Topology
    from tests.support import BROKER_URL, drain_queue

    outcome = backed_up(ctx)
    with empty_database() as url:
        upgrade(url, "backup", SERVICES)
        target = make_engine(url)
        topology = Topology(production_settings.namespace, "quorum",
                            production_settings.delivery_limit)
        publisher = ConfirmingPublisher(BROKER_URL, topology, connect_timeout=5,
                                        confirm_timeout=30)
        try:
            restore(ctx, outcome.key or "", target)
            sent = replay(target, lambda batch: publisher.publish([
                OutgoingMessage(topology.events.name, key, body, event_id,
                                {"school_id": school}) for key, body, event_id, school in batch]))
        finally:
            publisher.close()
            target.dispose()
    assert sent == outcome.events
    received = [orjson.loads(m.body) for m in drain_queue(production_settings.namespace,
                                                          "checker", idle_seconds=1.0)]
    with ctx.engine.connect() as connection:
        contract = connection.execute(select(journal.c.event_id).where(
            journal.c.type.in_(sorted(DATA_SCHEMAS))).order_by(journal.c.seq)).scalars().all()
    assert [event["id"] for event in received] == contract  # all of them, in journal order
