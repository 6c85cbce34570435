"""Streamed backups on the real PostgreSQL (issue 20): the archive round-trips to identical
data whether the tables are folded in the backup's process or by a worker beside it; the
reading check (no restore) catches a corrupted chunk, a truncated archive, a wrong key and a
table that does not match its manifest; the trial restore runs once per retention cycle."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from services.backup.adapters import archive_io
from services.backup.adapters.archive_io import manifest_for, pack, write_members
from services.backup.adapters.crypto import CHUNK, HEADER, new_key, parse_key
from services.backup.adapters.tables import backups, inbox, journal, outbox
from services.backup.domain.archive import ArchiveDamaged
from services.backup.handlers import (
    BackupContext,
    Outcome,
    create_request,
    make_backup,
    restore,
    verify,
)
from services.backup.main import context_for
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.settings import SERVICES, Settings
from shared.storage import LocalFileStore
from tests.backup_support import (
    backup_settings,
    empty_database,
    fill_journal,
    small_school_events,
)

pytestmark = pytest.mark.integration

#: a printed journal large enough that the archive spans several chunks
BIG_PDF = b"%PDF-1.7\n" + secrets.token_bytes(3 * CHUNK) + b"\n%%EOF\n"
SEALED_CHUNK = 4 + CHUNK + 16


@pytest.fixture
def ctx(production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> Iterator[BackupContext]:
    context = context_for(backup_settings(migrated(production_settings), tmp_path))
    fill_journal(context.engine, small_school_events())
    assert context.files is not None
    context.files.put("pdf/sch0001/journal-5a.pdf", BIG_PDF)
    yield context
    context.engine.dispose()


def backed_up(ctx: BackupContext) -> Outcome:
    outcome = make_backup(ctx, create_request(ctx.engine, "*", "manual", "test", ctx.clock()))
    assert outcome.status == "verified", outcome.problems
    assert outcome.key and outcome.manifest
    return outcome


def rows(engine: object, table: object) -> list[tuple[object, ...]]:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return [tuple(row) for row in connection.execute(
            select(table).order_by(*table.primary_key.columns))]  # type: ignore[attr-defined]


def test_a_streamed_archive_round_trips_with_the_tables_folded_here_or_by_a_worker(
        ctx: BackupContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    here = backed_up(ctx)
    monkeypatch.setattr(archive_io, "WORKER_ABOVE", 0)  # this small school by a worker
    # the whole journal again (the tables kept from the first backup would leave
    # nothing to fold, and no worker)
    worker = backed_up(replace(ctx, kept_tables=None))
    assert here.manifest and worker.manifest
    assert here.manifest.checksums == worker.manifest.checksums  # the same bytes
    assert here.manifest.counts == worker.manifest.counts
    assert here.bytes > 3 * CHUNK  # several chunks, streamed
    quick = verify(ctx, worker.key or "", trial_restore=False)
    assert quick.ok and quick.events == here.events

    files = LocalFileStore(tmp_path / "restored-files")
    with empty_database() as url:
        upgrade(url, "backup", SERVICES)
        target = make_engine(url)
        try:
            restored = restore(ctx, worker.key or "", target, restore_files=files)
            assert restored.events == here.events
            assert rows(target, journal) == rows(ctx.engine, journal)  # identical data
            assert len(rows(target, inbox)) == here.events
        finally:
            target.dispose()
    assert files.get("pdf/sch0001/journal-5a.pdf") == BIG_PDF


def damaged_copies(body: bytes) -> dict[str, bytes]:
    middle = bytearray(body)
    middle[HEADER + SEALED_CHUNK + 4 + CHUNK // 2] ^= 0x01  # inside the second chunk
    return {
        "a corrupted chunk": bytes(middle),
        "truncated at a chunk boundary": body[:HEADER + 2 * SEALED_CHUNK],
        "truncated inside a chunk": body[:HEADER + SEALED_CHUNK + 1000],
        "a chunk dropped": body[:HEADER] + body[HEADER + SEALED_CHUNK:],
    }


def test_the_reading_check_catches_damage_and_restore_refuses_it(ctx: BackupContext) -> None:
    outcome = backed_up(ctx)
    body = ctx.archives.get(outcome.key or "")
    for what, damaged in damaged_copies(body).items():
        key = f"backups/all/damaged-{what.replace(' ', '-')}.kzb"
        ctx.archives.put(key, damaged)
        quick = verify(ctx, key, trial_restore=False)
        assert not quick.ok, what
        assert any("damaged" in p or "truncated" in p or "impossible length" in p
                   for p in quick.problems), (what, quick.problems)
        with empty_database() as url:
            upgrade(url, "backup", SERVICES)
            target = make_engine(url)
            try:
                with pytest.raises(ArchiveDamaged):
                    restore(ctx, key, target)
                assert rows(target, journal) == []  # nothing committed
            finally:
                target.dispose()
    stranger = replace(ctx, key=parse_key(new_key()))
    wrong = verify(stranger, outcome.key or "", trial_restore=False)
    assert not wrong.ok and "another key" in wrong.problems[0]


def test_the_reading_check_decodes_the_tables_against_the_manifest(
        ctx: BackupContext, tmp_path: Path) -> None:
    """A table whose rows differ from the manifest's count, its checksum consistent."""
    folder = tmp_path / "members"
    with ctx.engine.connect() as connection:
        members = write_members(connection, "*", None, folder)
    members.counts = {**members.counts,
                      "tables": {**members.counts["tables"],  # type: ignore[dict-item]
                                 "marks": 1 + members.counts["tables"]["marks"]}}  # type: ignore[index]
    manifest = manifest_for("bk_counts", "*", "manual", ctx.clock(), members)
    ctx.archives.put("backups/all/counts.kzb", pack(members, manifest, tmp_path / "a", ctx.key))
    quick = verify(ctx, "backups/all/counts.kzb", trial_restore=False)
    assert not quick.ok
    assert any(p.startswith("tables/marks.csv:") and "the manifest says" in p
               for p in quick.problems)


def test_the_stored_file_must_be_the_one_the_catalog_recorded(ctx: BackupContext) -> None:
    """Another good archive put under a backup's key is caught by the recorded SHA-256."""
    first, second = backed_up(ctx), backed_up(ctx)
    ctx.archives.put(first.key or "", ctx.archives.get(second.key or ""))
    quick = verify(ctx, first.key or "", trial_restore=False)
    assert not quick.ok
    assert any("SHA-256" in p for p in quick.problems)


def test_the_record_shows_which_backups_had_the_full_trial_restore(ctx: BackupContext) -> None:
    made = [backed_up(ctx) for _ in range(3)]
    with ctx.engine.connect() as connection:
        restored = [connection.execute(select(backups.c.restored_at).where(
            backups.c.id == outcome.backup_id)).scalar_one() for outcome in made]
        announced = [orjson.loads(body) for body in connection.execute(
            select(outbox.c.body).order_by(outbox.c.seq)).scalars()]
    assert [at is not None for at in restored] == [True, False, False]  # one per cycle
    verified = [e["data"] for e in announced if e["type"] == "backup.verified"]
    assert [v["trial_restore"] for v in verified] == [True, False, False]
    assert all(v["ok"] for v in verified)


def test_on_the_embedded_sqlite_the_tables_are_folded_in_process(
        embedded_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite transactions take the write lock: a worker's read would wait for the
    backup's own, so the embedded default never starts one, whatever the size."""
    monkeypatch.setattr(archive_io, "WORKER_ABOVE", 0)
    started: list[object] = []
    monkeypatch.setattr(archive_io, "TableWorker",
                        lambda *args: started.append(args) or pytest.fail("a worker"))
    context = context_for(backup_settings(migrated(embedded_settings), tmp_path))
    try:
        fill_journal(context.engine, small_school_events()[:2000])
        outcome = backed_up(context)
        assert outcome.events == 2000 and not started
        assert outcome.manifest and outcome.manifest.counts["tables"]["marks"] > 0
    finally:
        context.engine.dispose()
