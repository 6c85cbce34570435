"""The checker service on RabbitMQ and PostgreSQL: simulated events in, findings out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from kozomol.simulator.delivery import arrange
from kozomol.simulator.faults import FaultRates, PlantedFault
from kozomol.simulator.run import SimulationSpec, collect_faults, judged_at, school_events
from services.checker.adapters import parameters_store
from services.checker.adapters.tables import finding_history, findings, inbox
from services.checker.handlers import sweep
from services.checker.main import bootstrap
from shared.events.rules import SUBJECT_LIST_DEFAULTS
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import Topology
from shared.settings import Settings
from tests.support import BROKER_URL, drain_queue, wait_for

pytestmark = pytest.mark.integration

SPEC = SimulationSpec(seed=4, parallels=1, grades=(4, 6),
                      rates=FaultRates.default(4.0).with_rates(**{"mark.value.invalid": 0.02}))


def publish(settings: Settings, events: list[dict[str, Any]]) -> None:
    topology = Topology(settings.namespace, "quorum", settings.delivery_limit)
    publisher = ConfirmingPublisher(BROKER_URL, topology, connect_timeout=5, confirm_timeout=30)
    messages = [OutgoingMessage(topology.events.name, e["type"], orjson.dumps(e), e["id"])
                for e in events]
    for start in range(0, len(messages), 1000):
        publisher.publish(messages[start:start + 1000])
    publisher.close()


def finding_events(settings: Settings, seen: list[dict[str, Any]],
                   expected: int) -> list[dict[str, Any]] | None:
    """finding.* events in the backup's queue (it keeps every event), once all arrived."""
    for message in drain_queue(settings.namespace, "backup", idle_seconds=0.2):
        event = orjson.loads(message.body)
        if event["type"].startswith("finding."):
            seen.append(event)
    return seen if len(seen) >= expected else None


def processed(service: Any) -> int:
    with service.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(inbox)).scalar_one())


def stored_keys(service: Any, *statuses: str) -> dict[str, str]:
    with service.engine.connect() as connection:
        return {row.finding_key: row.id for row in connection.execute(
            select(findings.c.finding_key, findings.c.id).where(findings.c.status.in_(statuses)))}


def test_simulated_quarter_gives_exactly_the_planted_findings(
    production_settings: Settings, migrated: Any
) -> None:
    settings = replace(migrated(production_settings), sweep_interval=3600)
    planted: list[PlantedFault] = []
    events = list(arrange(school_events(SPEC, collect_faults(planted)), seed=4,
                          shuffle_window=500, duplicate_share=0.05))
    service = bootstrap(settings)
    service.start()
    try:
        assert service.consumer.ready.wait(15)
        publish(settings, events)
        unique = len({e["id"] for e in events})
        wait_for(lambda: processed(service) == unique, timeout=120)
        as_of = judged_at(SPEC)
        with service.engine.begin() as connection:
            # the school follows journal visits (clause 4.3: a rule only when switched
            # on), so the journal.visits events the broker delivered are judged too
            parameters_store.save(connection, "sch0001", {"journal_visits_rule": 1}, "test",
                                  as_of)
        result = sweep(service.engine, lambda: as_of)
        assert result.schools == 1
        truth = {_key(fault) for fault in planted}
        assert any(fault.rule == "journal.not_visited" for fault in planted)
        assert set(stored_keys(service, "open")) == truth
        assert len(truth) > 20
        # Each opened finding is announced once, as an event other services receive.
        seen: list[dict[str, Any]] = []
        announced = wait_for(lambda: finding_events(settings, seen, len(truth)), timeout=30)
        assert sorted(e["data"]["id"] for e in announced) == sorted(
            stored_keys(service, "open").values())
        assert {e["type"] for e in announced} == {"finding.opened"}
        assert all(e["data"]["message"] for e in announced)

        # A new entry removes a cause: the finding is withdrawn, with its history.
        invalid = next(f for f in planted if f.rule == "mark.value.invalid")
        deletion = {"id": "evt_fix_1", "type": "mark.deleted", "school_id": "sch0001",
                    "occurred_at": (as_of - timedelta(days=1)).isoformat(),
                    "data": {"mark_id": invalid.mark_id}}
        publish(settings, [deletion])
        wait_for(lambda: processed(service) == unique + 1, timeout=30)
        second = sweep(service.engine, lambda: as_of, dirty_only=True)
        assert (second.opened, second.withdrawn) == (0, 1)
        withdrawn = stored_keys(service, "withdrawn")
        assert list(withdrawn) == [_key(invalid)]
        with service.engine.connect() as connection:
            history = connection.execute(
                select(finding_history.c.status).where(
                    finding_history.c.finding_id == withdrawn[_key(invalid)])
                .order_by(finding_history.c.seq)).scalars().all()
        assert history == ["open", "withdrawn"]
        # Sweeping again changes nothing: the result depends on the facts and the time only.
        assert (sweep(service.engine, lambda: as_of).opened, 0) == (0, 0)
    finally:
        service.stop()


def _key(fault: PlantedFault) -> str:
    """The checker's finding key of a planted fault (rule and identifying fields)."""
    from datetime import date

    from services.checker.domain.rules import Finding, identity

    return identity(Finding(
        rule=fault.rule, date=date.fromisoformat(fault.date), class_id=fault.class_id,
        subject_id=fault.subject_id, subgroup=fault.subgroup, student_id=fault.student_id,
        lesson_id=fault.lesson_id, mark_id=fault.mark_id, term_id=fault.term_id))


def test_findings_api_lists_filters_pages_and_changes_status(
    production_settings: Settings, migrated: Any, gateway_client: Any
) -> None:
    from services.gateway.adapters.tokens import create_token
    from services.gateway.consumer import bootstrap_read_model
    from services.gateway.domain.access import Role

    settings = replace(migrated(production_settings), sweep_interval=3600,
                       outbox_relay_interval=0.1)
    spec = SimulationSpec(seed=5, parallels=1, grades=(5,), rates=FaultRates.default(6.0))
    events = list(school_events(spec))
    checker, read_model = bootstrap(settings), bootstrap_read_model(settings)
    gateway, client = gateway_client(settings)
    with gateway.engine.begin() as connection:
        deputy = create_token(connection, Role.DEPUTY, "sch0001")
        other = create_token(connection, Role.DEPUTY, "sch0002")
    headers = {"Authorization": f"Bearer {deputy.token}"}
    checker.start()
    read_model.start()
    try:
        assert checker.consumer.ready.wait(15) and read_model.consumer.ready.wait(15)
        publish(settings, events)
        wait_for(lambda: processed(checker) == len(events), timeout=120)
        opened = sweep(checker.engine, lambda: judged_at(spec)).opened
        assert opened > 10

        def listed(**query: str) -> dict[str, Any]:
            response = client.get("/api/v1/findings", headers=headers, query_string=query)
            assert response.status_code == 200, response.json
            return dict(response.json)

        wait_for(lambda: len(listed(limit="500")["items"]) == opened, timeout=30)
        pages, cursor = [], None
        for _ in range(50):
            page = listed(limit="7", **({"cursor": cursor} if cursor else {}))
            pages += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(pages) == opened == len({item["id"] for item in pages})
        assert [(i["date"], i["id"]) for i in pages] == sorted(
            ((i["date"], i["id"]) for i in pages), reverse=True)
        required = {"id", "rule", "clause", "severity", "responsible", "status", "school_id",
                    "class_id", "subject_id", "teacher_id", "student_id", "lesson_id",
                    "mark_id", "term_id", "date", "detected_at", "message", "evidence"}
        assert all(required <= set(item) for item in pages)
        rule = pages[0]["rule"]
        assert {i["rule"] for i in listed(rule=rule, limit="500")["items"]} == {rule}
        assert client.get("/api/v1/findings?school_id=sch0002",
                          headers=headers).status_code == 403
        foreign = {"Authorization": f"Bearer {other.token}"}
        assert client.get(f"/api/v1/findings/{pages[0]['id']}",
                          headers=foreign).status_code == 404
        assert client.get("/api/v1/rules", headers=headers).json["items"][0]["clause"]

        target = pages[0]["id"]
        own_teacher = pages[0]["teacher_id"]
        with gateway.engine.begin() as connection:
            teacher = create_token(connection, Role.TEACHER, "sch0001", teacher_id=own_teacher)
        bearer = {"Authorization": f"Bearer {teacher.token}"}
        mine = client.get("/api/v1/findings?limit=500", headers=bearer).json["items"]
        assert mine and {item["teacher_id"] for item in mine} == {own_teacher}
        others = [item for item in pages if item["teacher_id"] != own_teacher]
        assert others and client.get(f"/api/v1/findings/{others[0]['id']}",
                                     headers=bearer).status_code == 404
        assert client.patch(f"/api/v1/findings/{target}", headers=bearer,
                            json={"status": "fixed"}).status_code == 403
        assert client.patch(f"/api/v1/findings/{target}", headers=headers,
                            json={"status": "waived"}).status_code == 422
        changed = client.patch(f"/api/v1/findings/{target}", headers=headers,
                               json={"status": "waived", "comment": "урок перенесён приказом"})
        assert changed.status_code == 202

        def detail() -> dict[str, Any] | None:
            found = client.get(f"/api/v1/findings/{target}", headers=headers).json
            return found if found["status"] == "waived" else None

        waived = wait_for(detail, timeout=30)
        assert [step["status"] for step in waived["history"]] == ["open", "waived"]
        assert waived["history"][-1]["comment"] == "урок перенесён приказом"
        # the history names who decided by role (and label), not by a bare token id
        assert waived["history"][-1]["actor"].startswith(("директор", "заместитель директора",
                                                          "администратор"))
        # A sweep leaves a person's decision alone.
        sweep(checker.engine, lambda: judged_at(spec))
        assert client.get(f"/api/v1/findings/{target}", headers=headers).json["status"] == \
            "waived"

        # The class journal's remarks sheet, as JSON, CSV and XLSX.
        class_id = waived["class_id"]
        sheet = client.get(f"/api/v1/classes/{class_id}/remarks-sheet", headers=headers).json
        of_class = [i for i in pages if i["class_id"] == class_id]
        assert len(sheet["rows"]) == len(of_class)
        waived_rows = [r for r in sheet["rows"] if r[7] == "снято с обоснованием"]
        assert len(waived_rows) == 1 and waived_rows[0][6]  # the date it was closed
        assert waived_rows[0][9] == "урок перенесён приказом"  # the justification is kept
        teachers = {e["data"]["teacher_id"]: e["data"]["full_name"] for e in events
                    if e["type"] == "teacher.profile"}
        # names, not ids (a remark for the deputy director, a class's homework load, names
        # no teacher)
        assert {r[5] for r in sheet["rows"] if r[5]} <= set(teachers.values())
        assert sheet["class_name"] != class_id and "«" in sheet["class_name"]
        for unknown in ("4Б", "99z"):  # not "no remarks": no such class
            missing = client.get(f"/api/v1/classes/{unknown}/remarks-sheet", headers=headers)
            assert missing.status_code == 404 and unknown in missing.json["error"]["message"]
            assert missing.json["error"]["code"] == "class_not_found"
        as_pdf = client.get(f"/api/v1/classes/{class_id}/remarks-sheet?format=pdf",
                            headers=headers)
        assert as_pdf.status_code == 406 and "print-jobs" in as_pdf.json["error"]["message"]
        assert client.get(f"/api/v1/classes/{class_id}/remarks-sheet?fromat=csv",
                          headers=headers).status_code == 400  # a misspelt parameter
        as_csv = client.get(f"/api/v1/classes/{class_id}/remarks-sheet?format=csv",
                            headers=headers)
        csv_lines = as_csv.data.decode("utf-8-sig").splitlines()
        assert csv_lines[3].startswith("№,Дата проверки")  # under the school and the class
        as_xlsx = client.get(f"/api/v1/classes/{class_id}/remarks-sheet?format=xlsx",
                             headers=headers)
        from io import BytesIO

        from openpyxl import load_workbook

        book = load_workbook(BytesIO(as_xlsx.data))
        assert book.active is not None
        assert book.active.max_row == len(of_class) + 4  # school, class, a gap, the heading
        assert book.active["C5"].value == sheet["rows"][0][2]
        assert book.active.freeze_panes == "A5"
        assert book.active["B5"].number_format == "DD.MM.YYYY"

        # The school's own parameters: refused when wrong, applied by the next sweep.
        assert client.put("/api/v1/rules/parameters", headers=headers,
                          json={"parameters": {"no_such": 1}}).status_code == 422
        assert client.put("/api/v1/rules/parameters", headers=bearer,
                          json={"parameters": {"min_marks_for_final": 0}}).status_code == 403
        changed = client.put("/api/v1/rules/parameters", headers=headers,
                             json={"parameters": {"min_marks_for_final": 0}})
        assert changed.status_code == 202

        def rule_value() -> int | None:
            rules = client.get("/api/v1/rules", headers=headers).json["items"]
            rule = next(r for r in rules if r["id"] == "final_mark.insufficient_marks")
            value = rule["parameters"]["min_marks_for_final"]
            return None if value != 0 else 1

        wait_for(rule_value, timeout=30)
        insufficient = listed(rule="final_mark.insufficient_marks", limit="500")["items"]
        assert insufficient, "the faulty school should have had some"
        sweep(checker.engine, lambda: judged_at(spec))
        wait_for(lambda: not listed(rule="final_mark.insufficient_marks", status="open",
                                    limit="500")["items"], timeout=30)

        # Language subjects are exempt "by configuration" (catalog): a list of subject ids.
        assert client.put("/api/v1/rules/parameters", headers=headers, json={
            "parameters": {"language_subjects": "english"}}).status_code == 422
        assert client.put("/api/v1/rules/parameters", headers=headers, json={
            "parameters": {"language_subjects": ["english", 5]}}).status_code == 422
        language = [i for i in listed(rule="topic.language", status="open",
                                      limit="500")["items"]]
        assert language, "the faulty school should have had some"
        # the school's list replaces the default one (English, Kyrgyz, ... are then judged)
        subjects = sorted({item["subject_id"] for item in language}
                          | set(SUBJECT_LIST_DEFAULTS["language_subjects"]))
        assert client.put("/api/v1/rules/parameters", headers=headers, json={
            "parameters": {"language_subjects": subjects}}).status_code == 202

        def language_subjects() -> list[str] | None:
            rules = client.get("/api/v1/rules", headers=headers).json["items"]
            rule = next(r for r in rules if r["id"] == "topic.language")
            value = rule["parameters"]["language_subjects"]
            return value if value == subjects else None

        assert wait_for(language_subjects, timeout=30) == subjects
        sweep(checker.engine, lambda: judged_at(spec))
        wait_for(lambda: not listed(rule="topic.language", status="open",
                                    limit="500")["items"], timeout=30)
    finally:
        read_model.stop()
        checker.stop()
