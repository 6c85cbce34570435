"""The printer on the embedded default (SQLite, in-process broker): the same code prints."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from services.printer.adapters import copy_store
from services.printer.adapters.tables import jobs, records
from services.printer.main import bootstrap
from shared.events.envelope import Event
from shared.messaging.publisher import MemoryPublisher, OutgoingMessage
from shared.messaging.topology import PRINTER_COPIES
from shared.service import topology_for
from shared.settings import Settings
from shared.storage import open_store
from tests.integration.test_printer_rabbitmq import processed
from tests.printer_support import fold_all, page_texts, school_of, simulated
from tests.support import wait_for


def test_the_embedded_printer_prints_a_class_journal(embedded_settings: Settings,
                                                     migrated: Any) -> None:
    settings = migrated(embedded_settings)
    events = [e for e in simulated() if e["type"] in PRINTER_COPIES]
    school_id = school_of(events)
    class_id = next(e["data"]["class_id"] for e in events if e["type"] == "class.roster")
    service = bootstrap(settings)
    service.start()
    try:
        assert service.consumer.ready.wait(10)
        topology = topology_for(settings).resolved(None)
        publisher = MemoryPublisher("memory://", topology)
        publisher.publish([OutgoingMessage(topology.events.name, e["type"], orjson.dumps(e),
                                           e["id"]) for e in events])
        wait_for(lambda: processed(service.engine) >= len(events), timeout=120)
        command = {"id": f"cmd-{secrets.token_hex(8)}", "type": "print.request",
                   "school_id": school_id, "occurred_at": datetime.now(UTC).isoformat(),
                   "data": {"job_id": "job-embedded", "kind": "class_journal",
                            "parameters": {"class_id": class_id}, "requested_by": "cli"}}
        publisher.publish([OutgoingMessage(topology.commands.name, "printer.print.request",
                                           orjson.dumps(command), command["id"])])

        def done() -> Any:
            with service.engine.connect() as connection:
                return connection.execute(select(jobs).where(
                    jobs.c.job_id == "job-embedded", jobs.c.status == "completed")).first()

        job = wait_for(done, timeout=60)
    finally:
        service.stop()
    body = open_store(settings.files_url).get(job.file_key)
    assert len(page_texts(body)) == job.pages
    assert job.file_key == f"pdf/{school_id}/job-embedded/5А_журнал_2026-2027_год.pdf"


def test_the_stored_copy_equals_the_fold_whatever_the_batches(embedded_settings: Settings,
                                                              migrated: Any) -> None:
    from shared.db.engine import make_engine

    settings = migrated(embedded_settings)
    events = list(simulated())
    shuffled = events + random.Random(1).sample(events, len(events) // 20)
    random.Random(2).shuffle(shuffled)
    engine = make_engine(settings.database_url_for("printer"))
    try:
        for start in range(0, len(shuffled), 97):
            with engine.begin() as connection:
                copy_store.ingest(connection, [Event.from_envelope(e)
                                               for e in shuffled[start:start + 97]])
        with engine.connect() as connection:
            stored = {(row.kind, row.entity_key): (row.class_id, row.stamp, row.data,
                                                   row.deleted_stamp)
                      for row in connection.execute(select(records))}
    finally:
        engine.dispose()
    expected = {key: (r.class_id, r.stamp, r.data, r.deleted_stamp)
                for key, r in fold_all(events).items()}
    assert stored == expected


def test_a_report_that_cannot_be_laid_out_fails_its_job_instead_of_the_queue(
        embedded_settings: Settings, migrated: Any) -> None:
    from services.printer.adapters.tables import outbox
    from services.printer.handlers import Printer
    from shared.db.engine import make_engine
    from tests.printer_support import FONT_DIR

    settings = migrated(embedded_settings)
    broken = {"report_id": "rep-broken", "kind": "fill_rate", "title": "Сломанный отчёт",
              "requested_by": "schedule", "summary": [],
              "tables": [{"name": "rows", "title": "Строки",
                          "columns": [{"title": "без ключа"}], "rows": [{"x": 1}]}]}
    event = Event.from_envelope({"id": "chk-broken", "type": "report.ready",
                                 "school_id": "sch1", "occurred_at": datetime.now(UTC)
                                 .isoformat(), "data": broken})
    engine = make_engine(settings.database_url_for("printer"))
    printer = Printer(open_store(settings.files_url), FONT_DIR)
    try:
        with engine.begin() as connection:
            printer.keep_reports(connection, [event])
        with engine.connect() as connection:
            job = connection.execute(select(jobs)).one()
            announced = [orjson.loads(row.body) for row in connection.execute(select(outbox))]
    finally:
        engine.dispose()
    assert job.job_id == "report-rep-broken" and job.status == "failed"
    assert job.reason.startswith("не удалось напечатать: KeyError")
    assert [(e["type"], e["data"]["job_id"]) for e in announced] == [
        ("print.failed", "report-rep-broken")]
