"""The backup service on RabbitMQ and PostgreSQL, driven through the gateway's API:
backups on request, the year-end archive registry, the read models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import DBAPIError

from services.backup.adapters.tables import archive_registry, journal
from services.backup.domain.registry import ArchiveEntry
from services.backup.handlers import add_registry_entry
from services.backup.main import bootstrap
from services.gateway.adapters.tokens import create_token
from services.gateway.domain.access import Role
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import Topology
from shared.settings import Settings
from tests.backup_support import backup_settings, small_school_events
from tests.support import BROKER_URL, as_published, drain_queue, wait_for

pytestmark = pytest.mark.integration


def publish(settings: Settings, events: list[dict[str, Any]]) -> None:
    topology = Topology(settings.namespace, "quorum", settings.delivery_limit)
    publisher = ConfirmingPublisher(BROKER_URL, topology, connect_timeout=5, confirm_timeout=30)
    # A service's event (print.completed) travels as its owner sends it: on the
    # internal exchange, naming its source.
    messages = [OutgoingMessage(topology.exchange_for(e["type"]).name, e["type"],
                                orjson.dumps(as_published(e)), e["id"]) for e in events]
    for start in range(0, len(messages), 1000):
        publisher.publish(messages[start:start + 1000])
    publisher.close()


def token(engine: Engine, role: Role, school: str | None) -> dict[str, str]:
    teacher = "t1" if role in (Role.TEACHER, Role.CLASS_TEACHER) else None
    with engine.begin() as connection:
        issued = create_token(connection, role, school, label="test", teacher_id=teacher)
    return {"Authorization": f"Bearer {issued.token}"}


def journaled(engine: Engine, event_type: str | None = None) -> int:
    query = select(func.count()).select_from(journal)
    if event_type is not None:
        query = query.where(journal.c.type == event_type)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def test_backups_and_the_year_end_archive_through_the_api(
        production_settings: Settings, migrated: Callable[[Settings], Settings],
        gateway_client: Any, tmp_path: Path) -> None:
    from services.gateway.consumer import bootstrap_read_model

    settings = replace(backup_settings(migrated(production_settings), tmp_path),
                       backup_schedule="", backup_half_year_schedule="",
                       backup_check_interval=0.2, outbox_relay_interval=0.1)
    gateway, client = gateway_client(settings)
    service, read_model = bootstrap(settings), bootstrap_read_model(settings)
    service.start()
    read_model.start()
    try:
        assert service.consumer.ready.wait(15) and read_model.consumer.ready.wait(15)
        events = [e.to_envelope() for e in small_school_events()]
        publish(settings, events)
        wait_for(lambda: journaled(service.engine) == len(events), timeout=60)

        deputy = token(gateway.engine, Role.DEPUTY, "sch0001")
        auditor = token(gateway.engine, Role.AUDITOR, "sch0001")
        teacher = token(gateway.engine, Role.TEACHER, "sch0001")
        assert client.post("/api/v1/backups", json={}, headers=auditor).status_code == 403
        assert client.get("/api/v1/backups", headers=teacher).status_code == 403
        assert client.post("/api/v1/backups", json={"school_id": "other"},
                           headers=deputy).status_code == 403
        asked = client.post("/api/v1/backups", json={}, headers=deputy)
        assert asked.status_code == 202, asked.json
        backup_id = asked.json["id"]
        assert asked.json["scope"] == "sch0001"

        def status() -> Any:
            item = client.get(f"/api/v1/backups/{backup_id}", headers=auditor).json
            return item if item["status"] == "verified" else None

        done = wait_for(status, timeout=120)
        assert done["events"] == len(events)
        assert done["key"].startswith("backups/sch0001/")
        listed = client.get("/api/v1/backups", headers=auditor).json["items"]
        assert [item["id"] for item in listed] == [backup_id]
        # the service's own announcements come back to it: the record keeps them too
        wait_for(lambda: journaled(service.engine, "backup.verified") == 1, timeout=30)

        # Year end: every class journal to the printer, each registered once printed.
        year = next(e["data"]["academic_year"] for e in events if e["type"] == "class.roster")
        director = token(gateway.engine, Role.DIRECTOR, "sch0001")
        bad = client.post("/api/v1/archive/year-end", json={"academic_year": "2026"},
                          headers=director)
        assert bad.status_code == 422
        started = client.post("/api/v1/archive/year-end", headers=director, json={
            "academic_year": year, "responsible": "Завуч Асанова А."})
        assert started.status_code == 202
        requests: list[dict[str, Any]] = []

        def print_requests() -> list[dict[str, Any]] | None:
            requests.extend(orjson.loads(m.body)
                            for m in drain_queue(settings.namespace, "printer", idle_seconds=0.2))
            found = [r for r in requests if r["type"] == "print.request"]
            return found or None

        asked_prints = wait_for(print_requests, timeout=30)
        assert all(r["data"]["parameters"]["year"] == year for r in asked_prints)
        classes = {r["data"]["parameters"]["class_id"] for r in asked_prints}
        assert classes and all(r["data"]["kind"] == "class_journal" for r in asked_prints)
        # The printer fails one; asking again retries that class only.
        failed = asked_prints[0]
        publish(settings, [{"id": "prn-failed", "type": "print.failed", "school_id": "sch0001",
                            "occurred_at": datetime.now(UTC).isoformat(),
                            "data": {"job_id": failed["data"]["job_id"], "reason": "test"}}])
        wait_for(lambda: journaled(service.engine, "print.failed") == 1, timeout=30)
        requests.clear()
        again = client.post("/api/v1/archive/year-end", headers=director, json={
            "academic_year": year, "responsible": "Завуч Асанова А."})
        assert again.status_code == 202
        retried = wait_for(print_requests, timeout=30)
        assert [r["data"]["parameters"]["class_id"] for r in retried] == [
            failed["data"]["parameters"]["class_id"]]
        assert retried[0]["data"]["job_id"] != failed["data"]["job_id"]
        asked_prints = [*asked_prints[1:], *retried]
        completed = [{
            "id": f"prn-{n}", "type": "print.completed", "school_id": "sch0001",
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"job_id": r["data"]["job_id"], "kind": "class_journal",
                     "school_id": "sch0001",
                     "file_key": f"pdf/sch0001/{r['data']['job_id']}.pdf",
                     "sha256": "ab" * 32, "pages": 75, "bytes": 700_000}}
            for n, r in enumerate(asked_prints)]
        publish(settings, completed + completed[:1])  # a duplicate delivery changes nothing

        def registry() -> Any:
            items = client.get(f"/api/v1/archive?academic_year={year}",
                               headers=auditor).json["items"]
            return items if len(items) == len(completed) else None

        items = wait_for(registry, timeout=30)
        assert [item["registry_number"] for item in items] == [
            f"{year}/{n:03d}" for n in range(1, len(completed) + 1)]
        assert {item["class_id"] for item in items} == classes
        rosters = {e["data"]["class_id"]: e["data"]["class_name"] for e in events
                   if e["type"] == "class.roster"}
        assert {item["class_name"] for item in items} == {rosters[c] for c in classes}
        assert items[0]["responsible"] == "Завуч Асанова А." and items[0]["pages"] == 75
        printable = client.get("/api/v1/archive?format=csv", headers=auditor)
        assert printable.status_code == 200
        assert f"{year}/001" in printable.get_data(as_text=True)
        assert rosters[items[0]["class_id"]] in printable.get_data(as_text=True)
        with service.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(archive_registry)
                                      ).scalar_one() == len(completed)
    finally:
        service.stop()
        read_model.stop()


def test_the_archive_registry_refuses_changes_and_deletions(
        production_settings: Settings, migrated: Callable[[Settings], Settings]) -> None:
    from shared.db.engine import make_engine

    settings = migrated(production_settings)
    engine = make_engine(settings.database_url_for("backup"))
    try:
        entry = ArchiveEntry(1, "s1", "5a", "2026-2027", 75, "ab" * 32, "pdf/s1/j.pdf", "job1",
                             datetime(2027, 6, 1, tzinfo=UTC), "Завуч")
        with engine.begin() as connection:
            add_registry_entry(connection, entry)
        for statement in (update(archive_registry).values(pages=1),
                          delete(archive_registry)):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(statement)
        with engine.connect() as connection:
            assert connection.execute(select(archive_registry.c.pages)).scalar_one() == 75
    finally:
        engine.dispose()


def test_without_a_key_the_journal_runs_and_backups_wait(
        production_settings: Settings, migrated: Callable[[Settings], Settings]) -> None:
    from services.backup.main import Scheduler

    settings = migrated(production_settings)
    assert settings.backup_key == "" and not settings.embedded_broker
    service = bootstrap(settings)
    try:
        assert not any(isinstance(c, Scheduler) for c in service.companions)
        service.start()
        assert service.consumer.ready.wait(15)
        events = [e.to_envelope() for e in small_school_events()[:50]]
        publish(settings, events)
        wait_for(lambda: journaled(service.engine) == 50, timeout=30)
    finally:
        service.stop()
