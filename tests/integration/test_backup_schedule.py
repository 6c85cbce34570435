"""Scheduled backups on the real PostgreSQL: two processes make each slot's backup
once; retention keeps what it must."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from services.backup.adapters.tables import backups, outbox
from services.backup.domain.retention import Retention
from services.backup.handlers import create_request, make_backup
from services.backup.main import Scheduler, context_for
from services.gateway.adapters.tables import backups_view
from services.gateway.handlers.backups import apply_backup_events
from services.gateway.web.backups import _backup
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.settings import Settings
from tests.backup_support import (
    SMALL,
    backup_settings,
    fill_journal,
    small_school_events,
)

pytestmark = pytest.mark.integration


def rows(engine: object) -> list[object]:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return list(connection.execute(select(backups).order_by(backups.c.requested_at)))


def test_two_processes_make_each_scheduled_backup_once(
        production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> None:
    settings = backup_settings(migrated(production_settings), tmp_path)
    ctx = context_for(settings)
    try:
        fill_journal(ctx.engine, small_school_events())
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")},
               "KOZOMOL_DATABASE_URL": settings.database_url,
               "KOZOMOL_BROKER_URL": settings.broker_url,
               "KOZOMOL_WEBHOOK_SECRETS": settings.webhook_secrets[0],
               "KOZOMOL_NAMESPACE": settings.namespace,
               "KOZOMOL_DATA_DIR": str(tmp_path / "var"),
               "KOZOMOL_BACKUP_KEY": settings.backup_key,
               "KOZOMOL_STORAGE_URL": settings.storage_url,
               "KOZOMOL_BACKUP_STORAGE_URL": settings.backup_storage_url}
        command = [str(Path(sys.executable).parent / "kozomol"), "backup", "run-due"]
        runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=300) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        made = rows(ctx.engine)
        # one nightly and one half-year slot were due: two backups, not four
        assert sorted(row.kind for row in made) == ["daily", "half_year"]  # type: ignore[attr-defined]
        assert all(row.verified_at for row in made)  # type: ignore[attr-defined]
        # both ran the same night: the half-year one (kept forever) stands for the day
        statuses = {row.kind: row.status for row in made}  # type: ignore[attr-defined]
        assert statuses["half_year"] == "verified"
        assert len(list(ctx.archives.keys("backups/"))) == sum(
            status == "verified" for status in statuses.values())
        # a second pass finds nothing due
        assert Scheduler(ctx, settings).tick() == []
    finally:
        ctx.engine.dispose()


def test_requested_backups_are_made_once_by_the_scheduler(
        production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> None:
    settings = replace(backup_settings(migrated(production_settings), tmp_path),
                       backup_schedule="", backup_half_year_schedule="")
    first, second = context_for(settings), context_for(settings)
    try:
        fill_journal(first.engine, small_school_events()[:200])
        create_request(first.engine, "sch0001", "manual", "api", first.clock(),
                       status="requested")
        made = Scheduler(first, settings).tick() + Scheduler(second, settings).tick()
        assert len(made) == 1
        (row,) = rows(first.engine)
        assert (row.scope, row.status, row.events) == ("sch0001", "verified", 200)  # type: ignore[attr-defined]
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_retention_keeps_dailies_monthlies_half_years_and_the_last_verified(
        production_settings: Settings, migrated: Callable[[Settings], Settings],
        tmp_path: Path) -> None:
    settings = backup_settings(migrated(production_settings), tmp_path)
    now = [datetime(2026, 9, 1, 2, tzinfo=UTC)]
    ctx = replace(context_for(settings), clock=lambda: now[0],
                  retention=Retention(daily=3, monthly=2))
    try:
        fill_journal(ctx.engine, small_school_events(replace(SMALL, terms=(1,)))[:100])
        made: dict[str, str] = {}
        for day in range(0, 70, 5):  # every fifth day from 1 September to 5 November
            now[0] = datetime(2026, 9, 1, 2, tzinfo=UTC) + timedelta(days=day)
            kind = "half_year" if day == 10 else "daily"
            outcome = make_backup(ctx, create_request(ctx.engine, "*", kind, "t", now[0]))
            assert outcome.status == "verified"
            made[now[0].date().isoformat()] = outcome.backup_id
        by_id = {row.id: row for row in rows(ctx.engine)}  # type: ignore[attr-defined]
        kept = sorted(day for day, backup_id in made.items()
                      if by_id[backup_id].status == "verified")
        # 3 newest days; the newest of October (10-31) and November (11-05); the half-year
        assert kept == ["2026-09-11", "2026-10-26", "2026-10-31", "2026-11-05"]
        stored = set(ctx.archives.keys("backups/"))
        assert stored == {by_id[made[day]].key for day in kept}
        pruned = [row for row in by_id.values() if row.status == "pruned"]
        assert len(pruned) == len(made) - len(kept)
        # each pruning is announced, and the API's listing then tells the truth about it
        with ctx.engine.connect() as connection:
            announced = [orjson.loads(row.body) for row in connection.execute(select(outbox))]
        assert {e["data"]["backup_id"] for e in announced if e["type"] == "backup.pruned"} \
            == {row.id for row in pruned}
        gateway = make_engine(settings.database_url_for("gateway"))
        try:
            with gateway.begin() as connection:
                apply_backup_events(connection, [Event.from_envelope(e) for e in announced])
            with gateway.connect() as connection:
                listed = {row.id: _backup(row._mapping)
                          for row in connection.execute(select(backups_view))}
        finally:
            gateway.dispose()
        for row in pruned:
            assert listed[row.id]["status"] == "pruned" and listed[row.id]["key"] is None
            assert listed[row.id]["pruned_key"] == row.key  # which file it was
        assert {listed[made[day]]["status"] for day in kept} == {"verified"}
    finally:
        ctx.engine.dispose()
