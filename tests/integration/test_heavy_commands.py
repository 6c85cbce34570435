"""Issue 14, item 6: heavy commands are limited per school, one of a kind in flight.

The audit had 695 backups accepted in ten minutes. Now a second backup, print
job or report of the same kind for the same school is refused with 429 (naming
the one in flight) until the first one's result comes back through the read
model, or its hold time has passed. On the embedded default: the commands wait
in the in-process broker, nobody answers them unless the test does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from services.gateway.adapters.tables import command_slots
from services.gateway.adapters.tokens import create_token
from services.gateway.consumer import bootstrap_read_model
from services.gateway.domain.access import Role
from shared.events.envelope import Event
from shared.settings import Settings

NOW = datetime.now(UTC)


def bearer(engine: Any, role: Role, school: str | None) -> dict[str, str]:
    with engine.begin() as connection:
        issued = create_token(connection, role, school, label="test")
    return {"Authorization": f"Bearer {issued.token}"}


def result(event_type: str, **data: Any) -> Event:
    """A result event as the read model gets it from its owner."""
    from shared.events.owners import owner_of

    event_id = f"e-{event_type}-{'-'.join(sorted(map(str, data.values())))}"
    return Event(event_id, event_type, "s1", NOW, data, owner_of(event_type), "internal")


@pytest.fixture
def api(embedded_settings: Settings, gateway_client: Any) -> tuple[Any, Any, Any]:
    gateway, client = gateway_client(embedded_settings)
    # the gateway's read-model dispatcher, driven by hand (no consumer thread)
    read_model = bootstrap_read_model(embedded_settings)
    yield gateway, client, read_model
    read_model.engine.dispose()


def deliver(read_model: Any, *events: Event) -> None:
    read_model.consumer.process(list(events))


def test_one_backup_per_school_in_flight(api: tuple[Any, Any, Any]) -> None:
    gateway, client, read_model = api
    deputy, other = bearer(gateway.engine, Role.DEPUTY, "s1"), bearer(gateway.engine,
                                                                       Role.DEPUTY, "s2")
    first = client.post("/api/v1/backups", json={}, headers=deputy)
    assert first.status_code == 202
    again = [client.post("/api/v1/backups", json={}, headers=deputy) for _ in range(20)]
    assert {response.status_code for response in again} == {429}
    assert again[0].json["error"]["code"] == "busy"
    assert again[0].json["error"]["details"] == {"in_flight": first.json["id"]}
    assert int(again[0].headers["Retry-After"]) > 0
    assert client.post("/api/v1/backups", json={}, headers=other).status_code == 202

    # made, but not yet verified: still in flight; verified: the next one may start
    deliver(read_model, result("backup.completed", backup_id=first.json["id"], kind="manual"))
    assert client.post("/api/v1/backups", json={}, headers=deputy).status_code == 429
    deliver(read_model, result("backup.verified", backup_id=first.json["id"], ok=True))
    assert client.post("/api/v1/backups", json={}, headers=deputy).status_code == 202
    listed = client.get("/api/v1/backups", headers=deputy).json["items"]
    assert len(listed) == 2  # the refused requests left nothing behind


def test_a_lost_result_blocks_no_longer_than_the_hold_time(api: tuple[Any, Any, Any]) -> None:
    gateway, client, _ = api
    deputy = bearer(gateway.engine, Role.DEPUTY, "s1")
    assert client.post("/api/v1/backups", json={}, headers=deputy).status_code == 202
    assert client.post("/api/v1/backups", json={}, headers=deputy).status_code == 429
    with gateway.engine.begin() as connection:
        connection.execute(update(command_slots).values(
            taken_at=datetime.now(UTC) - timedelta(hours=2, seconds=1)))
    assert client.post("/api/v1/backups", json={}, headers=deputy).status_code == 202


def test_one_print_job_and_one_report_of_a_kind_per_school(api: tuple[Any, Any, Any]) -> None:
    gateway, client, read_model = api
    deputy = bearer(gateway.engine, Role.DEPUTY, "s1")

    def print_job(kind: str, **parameters: str) -> Any:
        return client.post("/api/v1/print-jobs", headers=deputy,
                           json={"kind": kind, "parameters": parameters})

    # the classes' rosters, as Kundoluk sends them (a print job names a known class)
    deliver(read_model, *(Event(f"e-roster-{class_id}", "class.roster", "s1", NOW, {
        "class_id": class_id, "grade": 5, "academic_year": "2026-2027",
        "homeroom_teacher_id": None, "students": []},
        None, "public") for class_id in ("5a", "5b")))
    journal = print_job("class_journal", class_id="5a")
    assert journal.status_code == 202
    refused = print_job("class_journal", class_id="5b")
    assert refused.status_code == 429
    assert refused.json["error"]["details"] == {"in_flight": journal.json["id"]}
    assert print_job("final_statement", class_id="5a").status_code == 202  # another kind
    deliver(read_model, result("print.failed", job_id=journal.json["id"], reason="test"))
    assert print_job("class_journal", class_id="5b").status_code == 202

    def report(kind: str, **parameters: str) -> Any:
        return client.post("/api/v1/reports?wait=0", headers=deputy,
                           json={"kind": kind, "parameters": parameters})

    asked = report("quarter_analysis", class_id="5a")
    assert asked.status_code == 202, asked.json
    assert report("quarter_analysis", class_id="5b").status_code == 429
    assert report("fill_rate").status_code == 202
    report_id = asked.headers["Location"].rsplit("/", 1)[1]
    deliver(read_model, result("report.failed", report_id=report_id, kind="quarter_analysis",
                               reason="test"))
    assert report("quarter_analysis", class_id="5b").status_code == 202
