"""Every message the services really publish fits its published JSON Schema.

All five services run in one process on the embedded default; a spy queue bound
with ``#`` on the internal and the commands exchanges receives a copy of every
service event and command while a simulated school's quarter streams in and a
deputy director asks the API for what makes each command: a report, a print job,
a finding waived, a parameter changed, a backup, the year-end archive. Each copy
is checked against ``docs/schemas/internal/<type>.json`` (the files, not the code
that makes them) and loaded as its typed object.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest
from kombu import Connection, Queue, binding

from kozomol.embedded import EmbeddedKozomol
from kozomol.simulator.delivery import send
from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.handlers import sweep
from services.gateway.adapters.tokens import create_token
from services.gateway.domain.access import Role
from shared.events.messages import COMMANDS, MESSAGES
from shared.events.owners import owner_of
from shared.service import topology_for
from shared.settings import Settings, with_embedded_secret

pytestmark = pytest.mark.integration

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "internal"
#: what this run must have made (notification.logged needs contacts and a send time,
#: print.progress a batch on PostgreSQL; both are checked when they come)
EXPECTED = {"finding.opened", "finding.updated", "rules.parameters.changed", "report.ready",
            "report.failed", "print.completed", "print.failed", "backup.completed",
            "backup.verified", "archive.registered", "finding.update",
            "rules.parameters.update", "report.request", "print.request", "backup.create",
            "archive.year_end"}


def test_every_published_message_fits_its_schema(embedded_settings: Settings) -> None:
    settings = with_embedded_secret(replace(embedded_settings, backup_check_interval=3600.0))
    spec = SimulationSpec(seed=7, parallels=1, grades=(5,), terms=(1,),
                          rates=FaultRates.default())
    kozomol = EmbeddedKozomol(settings, host="127.0.0.1", port=0)
    kozomol.start()
    broker = Connection("memory://")
    try:
        assert kozomol.wait_ready(30)
        topology = topology_for(settings).resolved(None)
        spy = Queue(f"{settings.namespace}.spy", bindings=[
            binding(topology.internal, "#"), binding(topology.commands, "#")])
        spy(broker.channel()).declare()
        events = list(school_events(spec))
        school_id = next(e["school_id"] for e in events if e["school_id"] != "*")
        year = next(e["data"]["academic_year"] for e in events
                    if e["type"] == "school.calendar")
        delivery = send(events, f"{kozomol.url}/webhooks/kundoluk", settings.webhook_secrets,
                        batch_size=200)
        assert delivery.accepted > 100
        assert kozomol.drain(timeout=300)
        checker = next(c for c in kozomol.consumers if c.name == "checker")
        sweep(checker.engine, lambda: judged_at(spec))
        assert kozomol.drain(timeout=60)
        _ask_for_everything(kozomol, school_id, year)
        seen = _collect(broker, spy, until=EXPECTED, timeout=240)
    finally:
        broker.close()
        kozomol.stop()

    missing = EXPECTED - {message["type"] for message in seen}
    assert not missing, sorted(missing)
    schemas = {path.stem: json.loads(path.read_text()) for path in SCHEMA_DIR.glob("*.json")}
    for message in seen:
        assert message["type"] in MESSAGES, message["type"]
        jsonschema.Draft202012Validator(
            schemas[message["type"]], format_checker=jsonschema.FormatChecker(),
        ).validate(message)
        if message["type"] in COMMANDS:
            assert message["id"].startswith("cmd-")
        else:
            assert message["source"] == owner_of(message["type"])
        MESSAGES[message["type"]].from_data(message["data"])


def _ask_for_everything(kozomol: EmbeddedKozomol, school_id: str, year: str) -> None:
    """What a deputy director does that sends each command, answered as the API answers."""
    with kozomol.gateway.engine.begin() as connection:
        token = create_token(connection, Role.DEPUTY, school_id, label="spy").token
    with httpx.Client(base_url=kozomol.url, timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        findings = _until(lambda: client.get("/api/v1/findings").json()["items"])
        waived = client.patch(f"/api/v1/findings/{findings[0]['id']}",
                              json={"status": "waived", "comment": "урок перенесён"})
        assert waived.status_code == 202, waived.text
        changed = client.put("/api/v1/rules/parameters",
                             json={"parameters": {"final_mark_days": 4}})
        assert changed.status_code == 202, changed.text
        ready = client.post("/api/v1/reports", params={"wait": 30},
                            json={"kind": "fill_rate", "parameters": {}})
        assert ready.status_code in (200, 202), ready.text
        failed = client.post("/api/v1/reports", params={"wait": 30}, json={
            "kind": "quarter_analysis",
            "parameters": {"class_id": findings[0]["class_id"], "term_id": "q9"}})
        assert failed.status_code in (200, 202), failed.text
        # one printed, one failed (a student the school does not have)
        for kind, parameters in (("class_journal", {"class_id": findings[0]["class_id"]}),
                                 ("student_report", {"student_id": "no-such",
                                                     "term_id": "q1"})):
            printed = client.post("/api/v1/print-jobs", params={"wait": 30},
                                  json={"kind": kind, "parameters": parameters})
            assert printed.status_code in (200, 202), printed.text
            _until(lambda job=printed.headers["Location"]:  # one at a time: a heavy command
                   client.get(job).json()["status"] != "pending", timeout=120)
        backup = client.post("/api/v1/backups", json={})
        assert backup.status_code == 202, backup.text
        archive = client.post("/api/v1/archive/year-end", json={"academic_year": year})
        assert archive.status_code == 202, archive.text


def _until(found: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert value
    return value


def _collect(broker: Connection, spy: Queue, *, until: set[str],
             timeout: float) -> list[dict[str, Any]]:
    """Every message the spy queue got, waiting until each type of ``until`` came."""
    seen: list[dict[str, Any]] = []
    queue = broker.SimpleQueue(spy)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not queue.qsize():
                if until <= {message["type"] for message in seen}:
                    break
                time.sleep(0.2)
                continue
            message = queue.get(timeout=1)
            seen.append(orjson.loads(message.body))
            message.ack()
    finally:
        queue.close()
    return seen
