"""Verification without a database (issue 20): every member decrypted, decompressed and
checked against the manifest, the journal parsed and its chain checked, count and head
compared; one full trial restore per retention cycle and scope, and for every backup kept
for good."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.backup.adapters.archive_io import manifest_for, pack, write_members
from services.backup.adapters.tables import backups
from services.backup.domain.archive import EVENTS, Member
from services.backup.handlers import BackupContext, create_request, make_backup, verify
from services.backup.main import context_for
from shared.settings import Settings
from tests.backup_support import backup_settings, fill_journal, small_school_events

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx(production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> Iterator[BackupContext]:
    context = context_for(backup_settings(migrated(production_settings), tmp_path))
    fill_journal(context.engine, small_school_events())
    yield context
    context.engine.dispose()


def restored_at(ctx: BackupContext, backup_id: str) -> object:
    with ctx.engine.connect() as connection:
        return connection.execute(select(backups.c.restored_at).where(
            backups.c.id == backup_id)).scalar_one()


def made(ctx: BackupContext, kind: str = "manual", scope: str = "*") -> str:
    backup_id = create_request(ctx.engine, scope, kind, "test", ctx.clock())
    assert make_backup(ctx, backup_id).status == "verified"
    return backup_id


def test_one_full_trial_restore_per_retention_cycle_and_scope(ctx: BackupContext) -> None:
    first = made(ctx)
    assert restored_at(ctx, first) is not None  # the scope had none: a full trial restore
    second = made(ctx)
    assert restored_at(ctx, second) is None  # verified by reading the journal
    school = made(ctx, scope="sch0001")
    assert restored_at(ctx, school) is not None  # another scope, its own cycle
    assert restored_at(ctx, made(ctx, kind="half_year")) is not None  # kept for good
    later = replace(ctx, clock=lambda: ctx.clock() + timedelta(days=ctx.retention.daily + 1))
    assert restored_at(later, made(later)) is not None  # the cycle is over


def test_a_journal_line_changed_with_consistent_checksums_is_caught_without_a_restore(
        ctx: BackupContext, tmp_path: Path) -> None:
    """Someone rewrote an event and its member checksum: only the chain tells."""
    folder = tmp_path / "members"
    with ctx.engine.connect() as connection:
        members = write_members(connection, "*", None, folder)
    lines = (folder / EVENTS).read_bytes().split(b"\n")
    lines[10] = lines[10].replace(b'"value":"', b'"value":"5', 1) \
        if b'"value":"' in lines[10] else lines[10].replace(b"{", b'{"x":1,', 1)
    (folder / EVENTS).write_bytes(b"\n".join(lines))
    body = (folder / EVENTS).read_bytes()
    members.members = [Member(m.name, len(body), hashlib.sha256(body).hexdigest())
                       if m.name == EVENTS else m for m in members.members]
    manifest = manifest_for("bk_tampered", "*", "manual", ctx.clock(), members)
    ctx.archives.put("backups/all/tampered.kzb",
                     pack(members, manifest, tmp_path / "archive", ctx.key))

    quick = verify(ctx, "backups/all/tampered.kzb", trial_restore=False)
    assert not quick.ok
    assert any("hash does not match" in problem for problem in quick.problems)
    assert not verify(ctx, "backups/all/tampered.kzb").ok  # the trial restore agrees


def test_the_reading_check_agrees_with_the_trial_restore_on_a_good_archive(
        ctx: BackupContext) -> None:
    backup_id = made(ctx)
    with ctx.engine.connect() as connection:
        key = connection.execute(select(backups.c.key).where(
            backups.c.id == backup_id)).scalar_one()
    quick, full = verify(ctx, key, trial_restore=False), verify(ctx, key)
    assert quick.ok and full.ok
    assert quick.events == full.events > 1000


def test_scheduled_backups_are_made_per_school_each_with_the_nationwide_events(
        production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> None:
    from sqlalchemy import func

    from services.backup.adapters import journal_store
    from services.backup.main import Scheduler
    from shared.events.envelope import Event

    settings = replace(backup_settings(migrated(production_settings), tmp_path),
                       backup_schedule="0 2 * * *", backup_half_year_schedule="")
    context = context_for(settings)
    try:
        fill_journal(context.engine, small_school_events()[:300])
        with context.engine.begin() as connection:
            journal_store.append(connection, [
                Event.from_envelope({
                    "id": "evt_other_1", "type": "teacher.profile", "school_id": "sch0002",
                    "occurred_at": "2026-09-01T08:00:00+06:00",
                    "data": {"teacher_id": "t9", "full_name": "Асанова Айгуль"}}),
                Event.from_envelope({
                    "id": "evt_nationwide_1", "type": "platform.outage", "school_id": "*",
                    "occurred_at": "2026-09-02T12:00:00+06:00",
                    "data": {"started_at": "2026-09-02T09:00:00+06:00",
                             "ended_at": "2026-09-02T11:00:00+06:00"}})])
        made = Scheduler(context, settings).tick()
        with context.engine.connect() as connection:
            rows = {row.scope: row for row in connection.execute(
                select(backups).where(backups.c.id.in_(made)))}
            assert connection.execute(select(func.count()).select_from(backups)).scalar() == 2
        assert set(rows) == {"sch0001", "sch0002"}
        assert {row.status for row in rows.values()} == {"verified"}
        assert (rows["sch0001"].events, rows["sch0002"].events) == (301, 2)
        assert rows["sch0002"].key.startswith("backups/sch0002/")
        assert Scheduler(context, settings).tick() == []  # each school's slot is taken
        whole = replace(settings, backup_scope="all", backup_schedule="30 2 * * *")
        (one,) = Scheduler(context, whole).tick()
        with context.engine.connect() as connection:
            row = connection.execute(select(backups).where(backups.c.id == one)).one()
        assert (row.scope, row.events) == ("*", 302)
    finally:
        context.engine.dispose()
