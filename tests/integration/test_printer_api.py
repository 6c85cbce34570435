"""Print jobs through the real path: API → command → printer on PostgreSQL → file store →
print.completed / print.failed → the gateway's read model → API, over RabbitMQ."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from services.printer.main import bootstrap
from shared.messaging.topology import PRINTER_COPIES
from shared.settings import Settings
from tests.integration.test_printer_rabbitmq import processed, send
from tests.printer_support import (
    fill_rate_report,
    page_texts,
    pdfa_report,
    school_of,
    simulated,
)
from tests.support import wait_for

pytestmark = pytest.mark.integration


def test_print_jobs_are_validated_printed_and_downloaded(
    production_settings: Settings, migrated: Any, gateway_client: Any
) -> None:
    from services.gateway.adapters.tokens import create_token
    from services.gateway.consumer import bootstrap_read_model
    from services.gateway.domain.access import Role
    from services.gateway.queries.names import class_known

    settings = replace(migrated(production_settings), outbox_relay_interval=0.2)
    events = list(simulated())
    school_id = school_of(events)
    roster = next(e["data"] for e in events if e["type"] == "class.roster")
    class_id, homeroom = roster["class_id"], roster["homeroom_teacher_id"]
    calendar = next(e["data"] for e in events if e["type"] == "school.calendar")
    q1 = next(t["id"] for t in calendar["terms"] if t["kind"] == "quarter" and t["number"] == 1)
    printer, read_model = bootstrap(settings), bootstrap_read_model(settings)
    gateway, client = gateway_client(settings)
    with gateway.engine.begin() as connection:
        tokens = {
            "deputy": create_token(connection, Role.DEPUTY, school_id),
            "auditor": create_token(connection, Role.AUDITOR, school_id),
            "other_school": create_token(connection, Role.DEPUTY, "sch9999"),
            "teacher": create_token(connection, Role.TEACHER, school_id, teacher_id=homeroom),
            "own_class": create_token(connection, Role.CLASS_TEACHER, school_id,
                                      teacher_id=homeroom),
            "not_their_class": create_token(connection, Role.CLASS_TEACHER, school_id,
                                            teacher_id="t-nobody"),
        }
    auth = {name: {"Authorization": f"Bearer {token.token}"} for name, token in tokens.items()}

    def ask(who: str, kind: str, **parameters: Any) -> Any:
        return client.post("/api/v1/print-jobs", headers=auth[who],
                           json={"kind": kind, "parameters": parameters})

    def finished(job_id: str, who: str = "deputy") -> Any:
        answer = client.get(f"/api/v1/print-jobs/{job_id}", headers=auth[who])
        return answer if answer.json["status"] != "pending" else None

    printer.start()
    read_model.start()
    try:
        assert printer.consumer.ready.wait(15) and read_model.consumer.ready.wait(15)
        send(settings, [(e["type"], e) for e in events])
        copied = len({e["id"] for e in events if e["type"] in PRINTER_COPIES})
        wait_for(lambda: processed(printer.engine) >= copied, timeout=120)
        # the gateway knows the class once its roster reached the gateway's read model
        wait_for(lambda: class_known(gateway.engine, school_id, class_id), timeout=60)

        paths = client.get("/openapi.json").json["paths"]
        assert {"/api/v1/print-jobs", "/api/v1/print-jobs/{job_id}",
                "/api/v1/print-jobs/{job_id}/pdf"} <= paths.keys()
        assert {"get", "post"} <= paths["/api/v1/print-jobs"].keys()

        # Refused before anything is sent: the field at fault, or the role.
        bad = ask("deputy", "class_journal")
        assert bad.status_code == 422
        assert bad.json["error"]["details"] == {"parameters": {"class_id": ["is required"]}}
        assert ask("deputy", "poster", class_id=class_id).json["error"]["details"].keys() \
            == {"kind"}
        assert "colour" in ask("deputy", "final_statement", class_id=class_id,
                               colour="red").json["error"]["details"]["parameters"]
        assert ask("deputy", "class_journal", class_id=class_id,
                   year="2026").status_code == 422
        assert ask("deputy", "report", report_id="rep-none").status_code == 422
        assert ask("auditor", "class_journal", class_id=class_id).status_code == 403
        # a class Kundoluk never sent (a typo, last year's) is refused at once, named
        for unknown in ("99z", "4b-2020"):
            refused = ask("deputy", "class_journal", class_id=unknown)
            assert refused.status_code == 404, refused.json
            assert refused.json["error"]["code"] == "class_not_found"
            assert unknown in refused.json["error"]["message"]
            assert refused.json["error"]["details"] == {"class_id": unknown}
        assert ask("teacher", "class_journal", class_id=class_id).status_code == 403
        assert client.post("/api/v1/print-jobs", headers=auth["other_school"], json={
            "kind": "final_statement", "parameters": {"class_id": class_id},
            "school_id": school_id}).status_code == 403

        # The deputy prints the term's class journal and downloads it.
        accepted = ask("deputy", "class_journal", class_id=class_id, term_id=q1)
        assert accepted.status_code == 202, accepted.json
        job_id = accepted.json["id"]
        assert accepted.headers["Location"] == f"/api/v1/print-jobs/{job_id}"
        assert client.get(f"/api/v1/print-jobs/{job_id}/pdf",
                          headers=auth["deputy"]).status_code in (200, 409)
        job = wait_for(lambda: finished(job_id), timeout=60).json
        assert job["status"] == "completed", job
        assert job["pdf"] == f"/api/v1/print-jobs/{job_id}/pdf"
        pdf = client.get(job["pdf"], headers=auth["deputy"])
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert hashlib.sha256(pdf.data).hexdigest() == job["sha256"] \
            == pdf.headers["X-Content-SHA256"]
        assert len(page_texts(pdf.data)) == job["pages"] and len(pdf.data) == job["bytes"]
        assert pdfa_report(pdf.data)["part"] == "2"
        # downloaded under a name a person can read (RFC 6266 filename* for the Cyrillic)
        disposition = pdf.headers["Content-Disposition"]
        readable = f"{class_id[:-1]}А_журнал_{calendar['academic_year']}_I-четверть.pdf"
        assert f"filename*=UTF-8''{quote(readable)}" in disposition, disposition
        assert "job-" not in disposition
        assert job["file_name"] == readable and "«" in job["class_name"]
        assert job["school_name"] == calendar["school_name"]
        # ?wait on POST: the job comes back finished; a batch downloads as one ZIP
        waited = client.post("/api/v1/print-jobs?wait=30", headers=auth["deputy"], json={
            "kind": "student_reports",
            "parameters": {"class_id": class_id, "term_id": q1, "bundle": "zip"}})
        assert waited.status_code == 200 and waited.json["status"] == "completed", waited.json
        bundle = client.get(waited.json["pdf"], headers=auth["deputy"])
        assert bundle.mimetype == "application/zip"
        assert quote("_отчёты-родителям_") in bundle.headers["Content-Disposition"]
        with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
            assert len(archive.namelist()) == len(roster["students"])
        assert client.post("/api/v1/print-jobs?wait=31", headers=auth["deputy"], json={
            "kind": "final_statement", "parameters": {"class_id": class_id}}).status_code == 400
        # every class at once is for the school's administration
        assert ask("own_class", "class_journals", term_id=q1).status_code == 403
        assert ask("deputy", "student_reports", class_id=class_id, term_id=q1,
                   bundle="tar").status_code == 422
        # a misspelt filter is refused, not ignored, wherever it is given
        for path in ("/api/v1/print-jobs?knd=class_journal", "/api/v1/findings?clas_id=5a",
                     "/api/v1/reports?statuss=ready"):
            refused = client.get(path, headers=auth["deputy"])
            assert refused.status_code == 400, path
            assert refused.json["error"]["code"] == "unknown_parameter"
            assert refused.json["error"]["message"].startswith("неизвестные параметры")
        missing = client.get("/api/v1/print-jobs/job-nope", headers=auth["deputy"])
        assert missing.status_code == 404 and "job-nope" in missing.json["error"]["message"]
        assert client.get(f"/api/v1/print-jobs/{job_id}",
                          headers=auth["other_school"]).status_code == 404
        assert client.get(f"/api/v1/print-jobs/{job_id}",
                          headers=auth["teacher"]).status_code == 404  # not theirs

        # A class teacher prints their own class; another class's journal fails.
        own = ask("own_class", "final_statement", class_id=class_id)
        assert own.status_code == 202
        done = wait_for(lambda: finished(own.json["id"], "own_class"), timeout=60).json
        assert done["status"] == "completed"
        foreign = ask("not_their_class", "class_journal", class_id=class_id)
        failed = wait_for(lambda: finished(foreign.json["id"], "not_their_class"),
                          timeout=60).json
        assert failed["status"] == "failed" and "нет доступа" in failed["error"]
        assert client.get(f"/api/v1/print-jobs/{foreign.json['id']}/pdf",
                          headers=auth["not_their_class"]).status_code == 409

        # A report the gateway has (report.ready), printed on request; a scheduled one
        # printed by the printer itself shows up in the read model too.
        report = {**fill_rate_report(rows=8), "report_id": "rep-p1",
                  "requested_by": "deputy:x", "scope": None}
        scheduled = {**fill_rate_report(rows=3), "report_id": "rep-p2",
                     "requested_by": "schedule"}
        send(settings, [("report.ready", {
            "id": f"chk-{data['report_id']}", "type": "report.ready", "school_id": school_id,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data})
            for data in (report, scheduled)])
        wait_for(lambda: client.get("/api/v1/reports/rep-p1",
                                    headers=auth["deputy"]).status_code == 200, timeout=30)
        printed = ask("deputy", "report", report_id="rep-p1")
        assert printed.status_code == 202, printed.json
        job = wait_for(lambda: finished(printed.json["id"]), timeout=60).json
        assert job["status"] == "completed"
        text = page_texts(client.get(job["pdf"], headers=auth["deputy"]).data)[0]
        assert "Заполнение журнала за период" in text
        assert ask("teacher", "report", report_id="rep-p1").status_code == 403
        auto = wait_for(lambda: finished("report-rep-p2"), timeout=60).json
        assert auto["status"] == "completed" and auto["requested_by"] == "schedule"

        # The lists: the deputy sees the school's jobs, a class teacher their own.
        listed = client.get("/api/v1/print-jobs?limit=200", headers=auth["deputy"]).json
        assert {own.json["id"], foreign.json["id"], job_id, "report-rep-p2"} <= {
            item["id"] for item in listed["items"]}
        mine = client.get("/api/v1/print-jobs", headers=auth["own_class"]).json["items"]
        assert [item["id"] for item in mine] == [own.json["id"]]
        failures = client.get("/api/v1/print-jobs?status=failed",
                              headers=auth["deputy"]).json["items"]
        assert [item["id"] for item in failures] == [foreign.json["id"]]
    finally:
        printer.stop()
        read_model.stop()
