"""The printer service on RabbitMQ and PostgreSQL: simulated journal events and print
commands in, PDFs in the file store and print.completed / print.failed out."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from services.printer.adapters.tables import inbox, jobs, reports
from services.printer.main import bootstrap
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import PRINTER_COPIES, Topology
from shared.settings import Settings
from shared.storage import open_store
from tests.printer_support import (
    fill_rate_report,
    page_texts,
    pdfa_report,
    school_of,
    simulated,
)
from tests.support import BROKER_URL, as_published, drain_queue, wait_for

pytestmark = pytest.mark.integration


def send(settings: Settings, messages: list[tuple[str, dict[str, Any]]], *,
         commands: bool = False) -> None:
    """Publish (routing key, envelope) pairs with confirms, on the exchange each belongs on
    (commands, a service's own events, Kundoluk's events)."""
    topology = Topology(settings.namespace, "quorum", settings.delivery_limit)
    publisher = ConfirmingPublisher(BROKER_URL, topology, connect_timeout=5, confirm_timeout=30)
    outgoing = [OutgoingMessage(
        (topology.commands if commands else topology.exchange_for(body["type"])).name, key,
        orjson.dumps(body if commands else as_published(body)), body["id"],
        {"school_id": body["school_id"]}) for key, body in messages]
    for start in range(0, len(outgoing), 1000):
        publisher.publish(outgoing[start:start + 1000])
    publisher.close()


def print_request(school_id: str, job_id: str, kind: str, **parameters: Any,
                  ) -> tuple[str, dict[str, Any]]:
    return ("printer.print.request", {
        "id": f"cmd-{secrets.token_hex(8)}", "type": "print.request", "school_id": school_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"job_id": job_id, "kind": kind, "parameters": parameters,
                 "requested_by": "deputy:tok-1"}})


def processed(engine: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(inbox)).scalar_one())


def finished_jobs(engine: Any) -> dict[str, Any]:
    with engine.connect() as connection:
        return {row.job_id: row for row in connection.execute(
            select(jobs).where(jobs.c.status != "pending"))}


def test_two_printers_print_each_job_once_and_announce_it(
    production_settings: Settings, migrated: Any
) -> None:
    settings = replace(migrated(production_settings), outbox_relay_interval=0.2)
    events = list(simulated())
    school_id = school_of(events)
    roster = next(e["data"] for e in events if e["type"] == "class.roster")
    class_id, student_id = roster["class_id"], roster["students"][0]["student_id"]
    calendar = next(e["data"] for e in events if e["type"] == "school.calendar")
    q1 = next(t["id"] for t in calendar["terms"] if t["kind"] == "quarter" and t["number"] == 1)
    first, second = bootstrap(settings), bootstrap(settings)  # side by side on one queue
    for service in (first, second):
        service.start()
    try:
        assert first.consumer.ready.wait(15) and second.consumer.ready.wait(15)
        send(settings, [(e["type"], e) for e in events])
        unique = len({e["id"] for e in events if e["type"] in PRINTER_COPIES})
        wait_for(lambda: processed(first.engine) >= unique, timeout=120)

        scheduled = {**fill_rate_report(rows=5), "report_id": "rep-sched",
                     "requested_by": "schedule"}
        asked = {**fill_rate_report(rows=5), "report_id": "rep-asked",
                 "requested_by": "deputy:tok-1"}
        send(settings, [("report.ready", {
            "id": f"chk-{name}", "type": "report.ready", "school_id": school_id,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data})
            for name, data in (("a", scheduled), ("b", asked))])
        wait_for(lambda: _count(first.engine, reports) == 2, timeout=60)
        journal = print_request(school_id, "job-journal", "class_journal", class_id=class_id,
                                term_id=q1)
        again = print_request(school_id, "job-journal", "class_journal", class_id=class_id,
                              term_id=q1)  # the same job sent twice: printed once
        send(settings, [
            journal, again,
            print_request(school_id, "job-year", "class_journal", class_id=class_id),
            print_request(school_id, "job-final", "final_statement", class_id=class_id),
            print_request(school_id, "job-student", "student_report", student_id=student_id,
                          term_id=q1),
            print_request(school_id, "job-report", "report", report_id="rep-asked"),
            print_request(school_id, "job-unknown", "class_journal", class_id="11z"),
            print_request(school_id, "job-bad", "poster", class_id=class_id),
        ], commands=True)
        expected = {"job-journal", "job-year", "job-final", "job-student", "job-report",
                    "job-unknown", "job-bad", "report-rep-sched"}
        done = wait_for(lambda: (found := finished_jobs(first.engine)).keys() == expected
                        and found, timeout=120)
        announced: dict[str, list[dict[str, Any]]] = {}

        def all_announced() -> bool:
            for message in drain_queue(settings.namespace, "backup", idle_seconds=0.2):
                event = orjson.loads(message.body)
                if event["type"].startswith("print."):
                    announced.setdefault(event["data"]["job_id"], []).append(event)
            return announced.keys() == expected

        wait_for(all_announced, timeout=60)
    finally:
        first.stop()
        second.stop()

    store = open_store(settings.files_url)
    failed = {job: row.reason for job, row in done.items() if row.status == "failed"}
    assert failed.keys() == {"job-unknown", "job-bad"}, failed
    assert "11z" in done["job-unknown"].reason
    assert "kind" in done["job-bad"].reason
    for job_id, row in done.items():
        events_of_job = announced[job_id]
        assert len(events_of_job) == 1, job_id  # announced once, though sent twice
        event = events_of_job[0]
        if row.status == "failed":
            assert event["type"] == "print.failed" and event["data"]["reason"] == row.reason
            continue
        body = store.get(row.file_key)
        assert row.file_key.startswith(f"pdf/{school_id}/{job_id}/")  # then a readable name
        assert row.file_key == f"pdf/{school_id}/{job_id}/{event['data']['file_name']}"
        assert hashlib.sha256(body).hexdigest() == row.sha256 == event["data"]["sha256"]
        assert len(body) == row.bytes == event["data"]["bytes"]
        texts = page_texts(body)
        assert len(texts) == row.pages == event["data"]["pages"]
        assert event["type"] == "print.completed"
        assert pdfa_report(body)["part"] == "2"
    journal_text = "\n".join(page_texts(store.get(done["job-journal"].file_key)))
    for student in roster["students"]:
        assert student["full_name"] in journal_text
    assert "учебный год" in page_texts(store.get(done["job-year"].file_key))[0]
    assert "1-я четверть" in page_texts(store.get(done["job-journal"].file_key))[0]
    assert "Итоговая ведомость" in page_texts(store.get(done["job-final"].file_key))[0]
    assert roster["students"][0]["full_name"] in page_texts(
        store.get(done["job-student"].file_key))[0]
    assert "Заполнение журнала за период" in page_texts(
        store.get(done["report-rep-sched"].file_key))[0]
    assert done["report-rep-sched"].requested_by == "schedule"


def _count(engine: Any, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
