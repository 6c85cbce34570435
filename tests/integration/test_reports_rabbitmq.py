"""Reports through the real path: API → command → checker on PostgreSQL → report.ready →
the gateway's read model → API, over RabbitMQ."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.adapters.tables import findings
from services.checker.handlers import sweep
from services.checker.main import bootstrap
from services.checker.reporting import make_scheduled
from shared.messaging.outbox import OutboxRelay
from shared.settings import Settings
from tests.integration.test_checker_rabbitmq import processed, publish
from tests.support import wait_for

pytestmark = pytest.mark.integration

SPEC = SimulationSpec(seed=9, parallels=1, grades=(3, 6), rates=FaultRates.default(5.0))


def test_reports_are_made_scoped_downloaded_and_scheduled(
    production_settings: Settings, migrated: Any, gateway_client: Any
) -> None:
    from services.gateway.adapters.tokens import create_token
    from services.gateway.consumer import bootstrap_read_model
    from services.gateway.domain.access import Role

    settings = replace(migrated(production_settings), sweep_interval=3600,
                       outbox_relay_interval=60.0)  # answers must not wait for the interval
    events = list(school_events(SPEC))
    now = judged_at(SPEC)
    checker, read_model = bootstrap(settings, clock=lambda: now), bootstrap_read_model(settings)
    gateway, client = gateway_client(settings)
    roster = next(e["data"] for e in events if e["type"] == "class.roster")
    homeroom, class_id = roster["homeroom_teacher_id"], roster["class_id"]
    with gateway.engine.begin() as connection:
        deputy = create_token(connection, Role.DEPUTY, "sch0001")
        teacher = create_token(connection, Role.TEACHER, "sch0001", teacher_id=homeroom)
        class_teacher = create_token(connection, Role.CLASS_TEACHER, "sch0001",
                                     teacher_id=homeroom)
    as_deputy = {"Authorization": f"Bearer {deputy.token}"}
    checker.start()
    read_model.start()
    try:
        assert checker.consumer.ready.wait(15) and read_model.consumer.ready.wait(15)
        publish(settings, events)
        wait_for(lambda: processed(checker) == len(events), timeout=120)
        sweep(checker.engine, lambda: now)

        period = {"date_from": "2026-09-14", "date_to": "2026-10-04"}

        def ask(headers: dict[str, str], kind: str, **parameters: Any) -> Any:
            return client.post("/api/v1/reports?wait=20", headers=headers,
                               json={"kind": kind, "parameters": parameters})

        answer = ask(as_deputy, "fill_rate", **period, lessons=True)
        assert answer.status_code == 200, answer.json
        report = answer.json["report"]
        assert report["kind"] == "fill_rate" and answer.json["status"] == "ready"
        rows = report["tables"][0]["rows"]
        deleted = {e["data"]["lesson_id"] for e in events if e["type"] == "lesson.deleted"}
        held = {e["data"]["lesson_id"] for e in events if e["type"] == "lesson.recorded"
                and e["data"]["lesson_id"] not in deleted
                and date(2026, 9, 14) <= date.fromisoformat(e["data"]["date"])
                <= date(2026, 10, 4)}
        assert {lesson for row in rows for lesson in row["lesson_ids"]} == held
        assert all(row["teacher"] != row["teacher_id"] for row in rows)  # names, not ids

        # Scope: a teacher sees their own lessons; a class teacher also their class.
        mine = ask({"Authorization": f"Bearer {teacher.token}"}, "fill_rate", **period)
        assert {r["teacher_id"] for r in mine.json["report"]["tables"][0]["rows"]} == {homeroom}
        theirs = ask({"Authorization": f"Bearer {class_teacher.token}"}, "fill_rate", **period)
        seen = {(r["class_id"], r["teacher_id"])
                for r in theirs.json["report"]["tables"][0]["rows"]}
        assert len({t for c, t in seen if c == class_id}) > 1
        assert {t for c, t in seen if c != class_id} <= {homeroom}
        # Findings: a class teacher sees their own and their class's, a teacher their own.
        with checker.engine.connect() as connection:
            opened = connection.execute(select(func.count()).select_from(findings).where(
                findings.c.status == "open")).scalar_one()

        def listed(token: str) -> list[dict[str, Any]]:
            return list(client.get("/api/v1/findings?limit=500",
                                   headers={"Authorization": f"Bearer {token}"}).json["items"])

        everything = wait_for(lambda: listed(deputy.token) if len(
            listed(deputy.token)) == opened else None, timeout=30)
        assert 0 < opened < 500
        theirs_expected = {i["id"] for i in everything
                           if i["class_id"] == class_id or i["teacher_id"] == homeroom}
        assert {i["id"] for i in listed(class_teacher.token)} == theirs_expected
        assert any(i["teacher_id"] != homeroom for i in everything
                   if i["id"] in theirs_expected), "the class's other teachers' findings"
        assert {i["teacher_id"] for i in listed(teacher.token)} == {homeroom}
        sheet = client.get(f"/api/v1/classes/{class_id}/remarks-sheet",
                           headers={"Authorization": f"Bearer {class_teacher.token}"}).json
        assert len(sheet["rows"]) == sum(1 for i in everything if i["class_id"] == class_id)

        assert client.get(f"/api/v1/reports/{answer.json['id']}",
                          headers={"Authorization": f"Bearer {teacher.token}"}
                          ).status_code == 404  # the deputy's report is not the teacher's

        # Wrong requests are refused with the field at fault; unanswerable ones fail.
        refused = ask(as_deputy, "quarter_analysis")
        assert refused.status_code == 422
        assert "class_id" in refused.json["error"]["details"]["parameters"]
        assert ask(as_deputy, "fill_rate", date_from="2026-10-05",
                   date_to="2026-10-01").status_code == 422
        assert client.post("/api/v1/reports", headers=as_deputy,
                           json={"kind": "everything"}).status_code == 422
        # a class Kundoluk never sent is refused at once, named (issue 15)
        unknown = ask(as_deputy, "quarter_analysis", class_id="no-such-class")
        assert unknown.status_code == 404 and unknown.json["error"]["code"] == "class_not_found"
        assert "no-such-class" in unknown.json["error"]["message"]
        failed = ask(as_deputy, "quarter_analysis", class_id=class_id, term_id="q9")
        assert failed.status_code == 200 and failed.json["status"] == "failed"
        assert "q9" in failed.json["error"]

        # The quarter analysis of a class, as JSON, CSV and XLSX.
        analysis = ask(as_deputy, "quarter_analysis", class_id=class_id)
        assert analysis.status_code == 200, analysis.json
        tables = analysis.json["report"]["tables"]
        assert [t["name"] for t in tables] == ["fill_rate", "findings", "final_marks", "program"]
        report_id = analysis.json["id"]
        as_csv = client.get(f"/api/v1/reports/{report_id}?format=csv&table=findings",
                            headers=as_deputy)
        lines = as_csv.data.decode("utf-8-sig").splitlines()
        school_name = next(e["data"]["school_name"] for e in events
                           if e["type"] == "school.calendar")
        assert lines[0] == school_name  # the school by name, then the report's title
        assert lines[1].startswith("Анализ классного журнала")
        assert any(line.startswith("Учитель,Правило,Пункт,Всего") for line in lines)
        book = load_workbook(BytesIO(client.get(f"/api/v1/reports/{report_id}?format=xlsx",
                                                headers=as_deputy).data))
        assert book.sheetnames == [t["title"][:31] for t in tables]
        for program in (ask(as_deputy, "program_completion"),
                        ask(as_deputy, "teacher_summary")):
            assert program.status_code == 200 and program.json["status"] == "ready"

        # The checker makes the two-week check and the quarter's analyses by itself, once.
        later = now + timedelta(days=3)
        made = make_scheduled(checker.engine, lambda: later)
        assert made >= 1 and make_scheduled(checker.engine, lambda: later) == 0
        next(c for c in checker.companions if isinstance(c, OutboxRelay)).hurry()

        def scheduled() -> list[dict[str, Any]] | None:
            items = client.get("/api/v1/reports?requested_by=schedule",
                               headers=as_deputy).json["items"]
            return items if len(items) == made else None

        items = wait_for(scheduled, timeout=30)
        assert {"fill_rate"} <= {item["kind"] for item in items}
        assert all(item["status"] == "ready" for item in items)
    finally:
        read_model.stop()
        checker.stop()
