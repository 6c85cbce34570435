"""Issue 14, item 1: a signed webhook cannot pose as one of the services.

The audit posted ``print.completed``, ``finding.opened``, ``archive.registered``
and ``backup.verified`` as signed webhooks and the read models applied them.
Now the intake refuses the services' types (a field-level 422 naming the
reason), the services' events travel on an exchange the intake never publishes
to, and a read model applies an event only from its owner.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from services.gateway.adapters.tables import backups_view, inbox, quarantine, received_events
from services.gateway.consumer import bootstrap_read_model
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import Topology
from shared.settings import Settings
from tests.support import BROKER_URL, batch_body, make_event, signed, wait_for

pytestmark = pytest.mark.integration

#: What the audit forged, plus the other namespaces the services own and a command.
FORGED_TYPES = ("print.completed", "finding.opened", "archive.registered", "backup.verified",
                "rules.parameters.changed", "report.ready", "print.request", "backup.create")


def post(client: Any, secret: str, body: bytes) -> Any:
    return client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))


@pytest.mark.parametrize("event_type", FORGED_TYPES)
def test_a_webhook_posing_as_a_service_is_refused_field_by_field(
        embedded_settings: Settings, gateway_client: Any, event_type: str) -> None:
    gateway, client = gateway_client(embedded_settings)
    secret = embedded_settings.webhook_secrets[0]
    forged = make_event(event_type, backup_id="bk" + "0" * 32, job_id="j1")
    single = post(client, secret, orjson.dumps(forged))
    assert single.status_code == 422, single.json
    reason = single.json["error"]["details"]["type"][0]
    assert "reserved" in reason and "never come from Kundoluk" in reason

    good = make_event()
    batch = post(client, secret, batch_body([good, {**forged, "id": forged["id"] + "b"}]))
    assert batch.status_code == 202, batch.json
    assert batch.json["accepted"] == 1
    assert [(r["index"], list(r["errors"])) for r in batch.json["rejected"]] == [(1, ["type"])]
    with gateway.engine.connect() as connection:
        accepted = connection.execute(select(received_events.c.event_id)).scalars().all()
        kept = connection.execute(select(quarantine.c.event_type)).scalars().all()
    assert accepted == [good["id"]]  # the forged events were not taken in
    assert kept == [event_type, event_type]  # ... but kept, with why, in the quarantine


def test_unknown_types_outside_the_services_namespaces_are_still_accepted(
        embedded_settings: Settings, gateway_client: Any) -> None:
    """The contract keeps unknown types (forward compatibility); only the reserved go."""
    _, client = gateway_client(embedded_settings)
    response = post(client, embedded_settings.webhook_secrets[0],
                    orjson.dumps(make_event("homework.checked")))
    assert response.status_code == 202, response.json


def _backup_verified(backup_id: str, **envelope: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"id": f"bak-{backup_id}", "type": "backup.verified", "school_id": "*",
            "occurred_at": now, **envelope,
            "data": {"backup_id": backup_id, "ok": True, "key": f"backups/all/{backup_id}.kzb",
                     "verified_at": now}}


def test_the_read_model_applies_a_service_event_only_from_its_owner_on_the_internal_exchange(
        production_settings: Settings, migrated: Any) -> None:
    settings = migrated(production_settings)
    topology = Topology(settings.namespace, "quorum", settings.delivery_limit)
    service = bootstrap_read_model(settings)
    service.start()
    publisher = ConfirmingPublisher(BROKER_URL, topology, connect_timeout=5, confirm_timeout=30)
    try:
        assert service.consumer.ready.wait(10)
        # The three ways a forgery could arrive, then the genuine event.
        attempts = [
            (topology.events, _backup_verified("bkpublic", source="backup")),  # public door
            (topology.internal, _backup_verified("bknosource")),  # no sender named
            (topology.internal, _backup_verified("bkprinter", source="printer")),  # not owner
            (topology.internal, _backup_verified("bkgenuine", source="backup")),
        ]
        publisher.publish([OutgoingMessage(exchange.name, "backup.verified",
                                           orjson.dumps(body), body["id"])
                           for exchange, body in attempts])

        def consumed() -> int | None:
            # The public one is not even routed to the gateway's queue: three arrive.
            with service.engine.connect() as connection:
                count = connection.execute(select(func.count()).select_from(inbox)).scalar_one()
            return int(count) if count >= 3 else None

        wait_for(consumed, timeout=30)
        with service.engine.connect() as connection:
            shown = connection.execute(select(backups_view.c.id)).scalars().all()
    finally:
        publisher.close()
        service.stop()
    assert shown == ["bkgenuine"]


def test_a_print_job_serves_only_a_file_of_its_own_school(
        embedded_settings: Settings, gateway_client: Any) -> None:
    """Defence in depth: even an announced job pointing at another school's file, or at a
    backup archive, does not serve it."""
    from services.gateway.adapters.tables import print_jobs_view
    from services.gateway.adapters.tokens import create_token
    from services.gateway.domain.access import Role
    from shared.storage import open_store

    gateway, client = gateway_client(embedded_settings)
    store = open_store(embedded_settings.files_url)
    store.put("pdf/b/job-b.pdf", b"%PDF-1.7 school b")
    store.put("backups/all/bk1.kzb", b"all schools")
    with gateway.engine.begin() as connection:
        for job_id, key in (("job-own", "pdf/a/job-own.pdf"), ("job-b", "pdf/b/job-b.pdf"),
                            ("job-bk", "backups/all/bk1.kzb")):
            connection.execute(print_jobs_view.insert().values(
                id=job_id, school_id="a", kind="class_journal", status="completed",
                parameters={}, requested_by="x", requested_at=datetime.now(UTC),
                file_key=key, sha256="0" * 64))
        director = create_token(connection, Role.DIRECTOR, "a")
    store.put("pdf/a/job-own.pdf", b"%PDF-1.7 school a")
    headers = {"Authorization": f"Bearer {director.token}"}
    assert client.get("/api/v1/print-jobs/job-own/pdf", headers=headers).data == \
        b"%PDF-1.7 school a"
    for job_id in ("job-b", "job-bk"):
        assert client.get(f"/api/v1/print-jobs/{job_id}/pdf", headers=headers).status_code == 404
