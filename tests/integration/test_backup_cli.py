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
    # one code per mark across the printed journal and the export: a late arrival is «о»
    late = {s for e in events if e.type == "attendance.recorded" for s in e.data["late"]}
    assert late and any(row["attendance"] == "о" for row in rows)
    assert not any(row["attendance"] == "оп" for row in rows)
    assert {row["attendance"] for row in rows} <= {"", "н", "б", "у", "о"}
    # names beside the ids: the teacher, the class as the school writes it
    teachers = {e.data["teacher_id"]: e.data["full_name"] for e in events
                if e.type == "teacher.profile"}
    assert all(row["teacher_name"] == teachers[row["teacher_id"]] for row in rows)
    roster = next(e.data for e in events if e.type == "class.roster"
                  and e.data["class_id"] == class_id)
    assert {row["class_name"] for row in rows} == {roster["class_name"]}
    calendar = next(e.data for e in events if e.type == "school.calendar")
    assert lessons["A1"].value == calendar["school_name"]
    assert lessons["A2"].value == f"Класс {roster['class_name']}"
    assert lessons["C3"].value == "Предмет" and lessons["G4"].value in teachers.values()
    assert lessons["A4"].number_format == "DD.MM.YYYY" and lessons["A4"].is_date
    assert lessons.freeze_panes == "A4" and lessons.auto_filter.ref.startswith("A3:")
    assert lessons.page_setup.orientation == "landscape"
    assert lessons.print_title_rows == "$3:$3"
    assert grid.freeze_panes == "B2"
    assert [row[0].value for row in book["Обозначения"].iter_rows(min_row=2)][:5] == [
        "н", "б", "у", "о", "осв"]
