"""The API's commands with the broker stopped: recorded and sent, or neither (issue 13).

A report request and a print job asked for while RabbitMQ is down are answered
``202`` at once (not a 503, and without waiting out ``?wait=`` for a result that
cannot come), each pending row has its command in the gateway's command outbox
(no orphan), and once the broker is back the command relay sends them and the
checker and the printer complete them. The broker is a node of this test's own:
the machine's shared one is never stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from shared.settings import Settings
from tests.private_broker import BrokerNode
from tests.support import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def private_node(tmp_path: Path) -> Iterator[BrokerNode]:
    node = BrokerNode(tmp_path / "rabbit", "kozomolcmd")
    node.start()
    try:
        yield node
    finally:
        node.stop()


def test_requests_while_the_broker_is_down_are_recorded_then_sent_and_completed(
    production_settings: Settings, migrated: Any, gateway_client: Any, private_node: BrokerNode
) -> None:
    from services.checker.main import bootstrap as checker_service
    from services.gateway.adapters.tables import command_outbox, print_jobs_view, reports_view
    from services.gateway.adapters.tokens import create_token
    from services.gateway.consumer import bootstrap_read_model
    from services.gateway.domain.access import Role
    from services.printer.main import bootstrap as printer_service

    settings = migrated(replace(production_settings, broker_url=private_node.url,
                                outbox_relay_interval=0.2, broker_connect_timeout=2.0))
    checker, printer = checker_service(settings), printer_service(settings)
    read_model = bootstrap_read_model(settings)
    gateway, client = gateway_client(settings)
    gateway.start()  # its relays, as server.py starts them
    with gateway.engine.begin() as connection:
        deputy = create_token(connection, Role.DEPUTY, "sch0001")
    as_deputy = {"Authorization": f"Bearer {deputy.token}"}
    services = (checker, printer, read_model)
    for service in services:
        service.start()
    try:
        assert all(service.consumer.ready.wait(30) for service in services)
        private_node.stop()

        started = time.monotonic()
        report = client.post("/api/v1/reports?wait=20", headers=as_deputy, json={
            "kind": "fill_rate", "parameters": {}})
        # (a student the printer does not know: the gateway has no students to refuse by)
        job = client.post("/api/v1/print-jobs?wait=20", headers=as_deputy, json={
            "kind": "student_report",
            "parameters": {"student_id": "no-such-student", "term_id": "q1"}})
        # Recorded: 202 with where to ask, at once rather than after the 20 s of ?wait=.
        assert (report.status_code, job.status_code) == (202, 202), (report.json, job.json)
        assert time.monotonic() - started < 15
        assert report.json["status"] == job.json["status"] == "pending"
        report_id, job_id = report.json["id"], job.json["id"]
        assert report.headers["Location"] == f"/api/v1/reports/{report_id}"
        assert job.headers["Location"] == f"/api/v1/print-jobs/{job_id}"

        # No orphan: each pending row has its command waiting in the outbox.
        with gateway.engine.connect() as connection:
            waiting = [orjson.loads(row.body) for row in connection.execute(
                select(command_outbox).order_by(command_outbox.c.seq))]
            pending_reports = connection.execute(select(reports_view.c.id).where(
                reports_view.c.status == "pending")).scalars().all()
            pending_jobs = connection.execute(select(print_jobs_view.c.id).where(
                print_jobs_view.c.status == "pending")).scalars().all()
        assert pending_reports == [report_id] and pending_jobs == [job_id]
        assert [(c["type"], c["source"]) for c in waiting] == [
            ("report.request", "gateway"), ("print.request", "gateway")]
        assert waiting[0]["data"]["report_id"] == report_id
        assert waiting[1]["data"]["job_id"] == job_id
        assert job.json["command_id"] == waiting[1]["id"]

        # The broker is back: the relay sends both, the owners answer, the read model
        # completes them.
        private_node.start()

        def status(path: str) -> Any:
            answer = client.get(path, headers=as_deputy)
            return answer.json["status"] if answer.json["status"] != "pending" else None

        assert wait_for(lambda: status(f"/api/v1/reports/{report_id}"), timeout=120) == "failed"
        assert wait_for(lambda: status(f"/api/v1/print-jobs/{job_id}"), timeout=120) == "failed"
        assert gateway.command_relay.depth() == 0
        # The checker's answer (this school has no data), not a timeout of the gateway's.
        assert "нет проверенных данных" in client.get(f"/api/v1/reports/{report_id}",
                                                      headers=as_deputy).json["error"]
        # Their slots are free again: the same requests are taken, and answered in time.
        again = client.post("/api/v1/reports?wait=20", headers=as_deputy, json={
            "kind": "fill_rate", "parameters": {}})
        assert again.status_code == 200 and again.json["status"] == "failed"
    finally:
        for service in services:
            service.stop()
