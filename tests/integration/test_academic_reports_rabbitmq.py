"""The academic results reports (issue 18) through the real path: API → command → checker
on PostgreSQL → report.ready → the gateway's read model → API (JSON, CSV, XLSX), scoped."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from kozomol.simulator.run import judged_at
from services.checker.handlers import sweep
from services.checker.main import bootstrap
from shared.settings import Settings
from tests.integration.test_checker_rabbitmq import processed, publish
from tests.support import wait_for
from tests.unit.test_checker_analytics import Q1, Q2, SPEC, sim, simulated

pytestmark = pytest.mark.integration


def test_academic_reports_through_the_api_on_postgresql(
    production_settings: Settings, migrated: Any, gateway_client: Any
) -> None:
    from services.gateway.adapters.tokens import create_token
    from services.gateway.consumer import bootstrap_read_model
    from services.gateway.domain.access import Role

    settings = replace(migrated(production_settings), sweep_interval=3600,
                       outbox_relay_interval=60.0)
    events = list(simulated())
    now = judged_at(SPEC)
    checker, read_model = bootstrap(settings, clock=lambda: now), bootstrap_read_model(settings)
    gateway, client = gateway_client(settings)
    pe_teacher = next(e["data"]["teacher_id"] for e in events if e["type"] == "subject.plan"
                      and e["data"]["subject_id"] == "pe")
    with gateway.engine.begin() as connection:
        deputy = create_token(connection, Role.DEPUTY, "sch0001")
        teacher = create_token(connection, Role.TEACHER, "sch0001", teacher_id=pe_teacher)
    as_deputy = {"Authorization": f"Bearer {deputy.token}"}
    checker.start()
    read_model.start()
    try:
        assert checker.consumer.ready.wait(15) and read_model.consumer.ready.wait(15)
        publish(settings, events)
        wait_for(lambda: processed(checker) == len(events), timeout=180)
        sweep(checker.engine, lambda: now)

        def ask(headers: dict[str, str], kind: str, **parameters: Any) -> Any:
            return client.post("/api/v1/reports?wait=20", headers=headers,
                               json={"kind": kind, "parameters": parameters})

        for by in ("class", "subject", "teacher", "parallel"):
            answer = ask(as_deputy, "academic_results", term_id=Q2, by=by, basis="final")
            assert answer.status_code == 200 and answer.json["status"] == "ready", answer.json
            # PostgreSQL gives what SQLite gave in the unit tests (recounted there).
            assert answer.json["report"]["tables"] == sim(
                "academic_results", term_id=Q2, by=by, basis="final")["tables"]
        report_id = answer.json["id"]
        lines = client.get(f"/api/v1/reports/{report_id}?format=csv&table=rows",
                           headers=as_deputy).data.decode("utf-8-sig").splitlines()
        assert any(line.startswith("Анализ успеваемости и качества знаний")
                   for line in lines[:3]), lines[:3]  # under the school's name
        assert any(line.startswith("Параллель,Классов,Учеников,Успеваемость, %")
                   or line.startswith('Параллель,Классов,Учеников,"Успеваемость, %"')
                   for line in lines), lines[:8]
        book = load_workbook(BytesIO(client.get(f"/api/v1/reports/{report_id}?format=xlsx",
                                                headers=as_deputy).data))
        assert len(book.sheetnames) == 2

        objectivity = ask(as_deputy, "marks_objectivity", term_id=Q1)
        assert objectivity.status_code == 200 and objectivity.json["status"] == "ready"
        assert [t["name"] for t in objectivity.json["report"]["tables"]] == [
            "classes", "teachers", "drift"]

        # A teacher sees the figures of their own lessons only.
        mine = ask({"Authorization": f"Bearer {teacher.token}"}, "academic_results",
                   term_id=Q1, by="subject")
        assert mine.status_code == 200, mine.json
        assert {r["subject_id"] for r in mine.json["report"]["tables"][0]["rows"]} == {"pe"}
        refused = ask(as_deputy, "academic_results", by="planet")
        assert refused.status_code == 422 and "by" in refused.json["error"]["details"][
            "parameters"]
        failed = ask(as_deputy, "academic_results", term_id="2030-q9")
        assert failed.status_code == 200 and failed.json["status"] == "failed"
        assert "2030-q9" in failed.json["error"]
    finally:
        read_model.stop()
        checker.stop()
