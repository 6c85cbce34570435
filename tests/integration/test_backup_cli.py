"""``kozomol backup …`` against the real PostgreSQL: create, list, verify, restore,
prune, the registry and the class teacher's export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from kozomol.cli import main
from services.backup.main import context_for
from shared.settings import Settings
from shared.storage import open_store
from tests.backup_support import (
    backup_settings,
    empty_database,
    fill_journal,
    small_school_events,
)

pytestmark = pytest.mark.integration


def cli_env(settings: Settings) -> dict[str, str]:
    return {"KOZOMOL_DATABASE_URL": settings.database_url,
            "KOZOMOL_BROKER_URL": settings.broker_url,
            "KOZOMOL_NAMESPACE": settings.namespace,
            "KOZOMOL_WEBHOOK_SECRETS": settings.webhook_secrets[0],
            "KOZOMOL_DATA_DIR": str(settings.data_dir),
            "KOZOMOL_BACKUP_KEY": settings.backup_key,
            "KOZOMOL_STORAGE_URL": settings.storage_url,
            "KOZOMOL_BACKUP_STORAGE_URL": settings.backup_storage_url}


def test_backup_commands(production_settings: Settings,
                         migrated: Callable[[Settings], Settings], tmp_path: Path) -> None:
    settings = backup_settings(migrated(production_settings), tmp_path)
    events = small_school_events()
    ctx = context_for(settings)
    fill_journal(ctx.engine, events)
    ctx.engine.dispose()
    runner = CliRunner(env=cli_env(settings))

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, ["backup", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    made = run("create").splitlines()[-1]
    backup_id, status, key = made.split()[:3]
    assert status == "verified" and key.startswith("backups/all/")
    assert backup_id in run("list")
    assert run("list", "--store").split() == [key]
    assert run("verify").startswith(f"OK {key}")

    with empty_database() as url:
        out = run("restore", key, "--database-url", url, "--no-files")
        assert f"restored {len(events):,} events" in out
        assert "not restored: the target database's journal record is not empty" in run(
            "restore", key, "--database-url", url, code=1)

    second = run("create", "--school", "sch0001").splitlines()[-1].split()[2]
    archives = open_store(settings.backups_url)
    body = bytearray(archives.get(second))
    body[-100] ^= 0x01
    archives.put(second, bytes(body))
    assert "DAMAGED" in run("verify", second, code=1)
    with empty_database() as url:
        assert "not restored" in run("restore", second, "--database-url", url, code=1)

    assert run("prune", "--dry-run") == ""  # 7 days, 12 months: nothing to let go yet
    assert "Ответственный" in run("registry", "--format", "csv")

    class_id = next(e.data["class_id"] for e in events if e.type == "class.roster")
    xlsx, flat = tmp_path / "journal.xlsx", tmp_path / "journal.csv"
    run("export-class", class_id, "--school", "sch0001", "--output", str(xlsx))
    run("export-class", class_id, "--school", "sch0001", "--format", "csv", "--output", str(flat))
    book = load_workbook(xlsx)
    assert book.sheetnames[0] == "Уроки" and len(book.sheetnames) > 3
    lessons = book["Уроки"]
    recorded = [e for e in events if e.type == "lesson.recorded"]
    assert lessons.max_row >= len({e.data["lesson_id"] for e in recorded})
    grid = book[book.sheetnames[1]]
    assert grid.cell(1, 1).value == "Ученик" and grid.max_row > 20
    rows = list(csv.DictReader(io.StringIO(flat.read_text(encoding="utf-8-sig"))))
    assert rows and {"date", "subject_name", "student_name", "marks", "attendance"} <= set(rows[0])
    assert any(row["marks"] for row in rows) and any(row["attendance"] == "н" for row in rows)
