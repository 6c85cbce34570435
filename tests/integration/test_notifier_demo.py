"""The demo's notifier part (issue 17): a simulated day's messages and the digests and
summaries of the demo's own notifier, written as .eml files and a table."""

from __future__ import annotations

import csv
import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kozomol.notifier_demo import write_day_messages
from kozomol.simulator.run import SimulationSpec
from services.notifier.handlers import fold_events
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.settings import Settings


def test_the_day_is_written_as_eml_files_and_a_table(embedded_settings: Settings,
                                                      migrated: Any, tmp_path: Path) -> None:
    settings = migrated(embedded_settings)
    as_of = datetime(2026, 11, 8, 18, 0, tzinfo=UTC)
    engine = make_engine(settings.database_url_for("notifier"))
    teacher = {"teacher_id": "t1", "full_name": "Иванова Анна Петровна",
               "email": "t1@s.edu.kg", "roles": ["deputy_director"]}
    finding = {"id": "f1", "rule": "lesson.topic.late", "responsible": "teacher",
               "teacher_id": "t1", "class_id": "5a", "date": "2026-10-20", "status": "open",
               "message": "Тема урока 20.10.2026 не внесена в день проведения урока."}
    report = {"report_id": "r1", "kind": "fill_rate", "title": "Заполнение журнала",
              "parameters": {"date_from": "2026-10-19", "date_to": "2026-11-01"},
              "summary": [["Проведено уроков", "300"]], "requested_by": "schedule"}
    with engine.begin() as connection:
        fold_events(connection, [
            Event("e1", "school.calendar", "s", as_of, {"terms": [], "timezone": "UTC"}),
            Event("e2", "teacher.profile", "s", as_of, teacher),
            Event("e3", "finding.opened", "s", as_of, finding),
            Event("e4", "report.ready", "s", as_of, report)])
    engine.dispose()
    spec = SimulationSpec(seed=5, parallels=1, grades=(5, 6))
    result = write_day_messages(settings, tmp_path, spec, as_of)
    assert result.by_kind["reminder"] > 0 and result.by_kind["parent_notice"] > 0
    assert result.by_kind["digest"] == 1 and result.by_kind["report_summary"] == 1
    files = sorted(result.folder.glob("*.eml"))
    with (tmp_path / "messages.csv").open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [row["file"] for row in table] == [f.name for f in files]
    digest = next(f for f in files if "-digest-" in f.name)
    message = email.message_from_bytes(digest.read_bytes(), policy=email.policy.default)
    assert message["To"] == "t1@s.edu.kg"
    assert "Тема урока 20.10.2026 не внесена" in message.get_body().get_content()
    assert all(row["subject"] for row in table)
