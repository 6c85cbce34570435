"""Intake into the real RabbitMQ, with the gateway's tables on the real PostgreSQL."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import orjson
import pytest

from shared.settings import Settings
from tests.support import batch_body, drain_queue, make_event, queue_depth, signed, wait_for

pytestmark = pytest.mark.integration


def test_a_batch_of_1000_posted_twice_yields_1000_messages(
    production_settings: Settings, gateway_client: Any
) -> None:
    _, client = gateway_client(production_settings)
    secret = production_settings.webhook_secrets[0]
    events = [make_event(event_id=f"evt_{i:05d}") for i in range(1000)]
    body = batch_body(events)
    assert len(body) < 1024 * 1024

    first = client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))
    assert first.status_code == 202
    assert (first.json["accepted"], first.json["duplicates"], first.json["stored_in"]) == \
        (1000, 0, "broker")
    second = client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))
    assert second.status_code == 202
    assert (second.json["accepted"], second.json["duplicates"]) == (0, 1000)
    assert sorted(second.json["duplicate_ids"]) == sorted(e["id"] for e in events)

    messages = drain_queue(production_settings.namespace, "checker")
    ids = [orjson.loads(m.body)["id"] for m in messages]
    assert len(ids) == 1000
    assert set(ids) == {e["id"] for e in events}
    assert all(m.properties["delivery_mode"] == 2 for m in messages)  # persistent


def test_refused_deliveries_put_nothing_on_the_broker(
    production_settings: Settings, gateway_client: Any
) -> None:
    gateway, client = gateway_client(production_settings)
    gateway.publishers().check()  # connected: the topology exists, the queues are empty
    secret = production_settings.webhook_secrets[0]
    good = orjson.dumps(make_event())
    refused = [
        (good, {"webhook_signature": "v1,AAAA"}, 401),
        (good, {"webhook_signature": ""}, 401),
        (good, {"webhook_timestamp": str(int(time.time()) - 600)}, 401),
        (b"{broken", {}, 400),
        (orjson.dumps(make_event(value=4)), {}, 422),
        (orjson.dumps(make_event(topic="x" * 1_100_000)), {}, 413),
        (batch_body([make_event() for _ in range(1001)]), {}, 413),
    ]
    for body, overrides, status in refused:
        response = client.post("/webhooks/kundoluk", data=body,
                               headers=signed(secret, body, **overrides))
        assert response.status_code == status, (status, response.json)
    for service in ("checker", "backup"):
        assert queue_depth(production_settings.namespace, service) == 0


def test_while_the_broker_is_stopped_posts_get_202_and_are_delivered_once_after(
    production_settings: Settings, gateway_client: Any
) -> None:
    """Stops the real RabbitMQ application; the outbox keeps the events meanwhile."""
    from services.backup.adapters.journal_store import entries
    from services.backup.main import bootstrap as backup_service

    gateway, client = gateway_client(production_settings)
    secret = production_settings.webhook_secrets[0]
    backup = backup_service(production_settings)
    backup.start()
    assert backup.consumer.ready.wait(15)
    before = [make_event() for _ in range(5)]
    body = batch_body(before)
    assert client.post("/webhooks/kundoluk", data=body,
                       headers=signed(secret, body)).json["stored_in"] == "broker"

    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
    try:
        during = [make_event() for _ in range(300)]
        stored = []
        for chunk in (during[:1], during[1:100], during[100:]):
            body = batch_body(chunk) if len(chunk) > 1 else orjson.dumps(chunk[0])
            response = client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))
            assert response.status_code == 202
            stored.append(response.json["stored_in"])
        assert stored == ["outbox"] * 3
        assert gateway.relay.depth() == 300
        assert client.get("/readyz").status_code == 503
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "await_startup"], check=True, capture_output=True)

    gateway.relay.start()
    wait_for(lambda: gateway.relay.depth() == 0, timeout=60)

    def journal_ids() -> list[str]:
        with backup.engine.connect() as connection:
            return [orjson.loads(body)["id"] for _, body, _, _ in entries(connection)]

    # The backup consumer reconnected by itself and consumed everything exactly once.
    wait_for(lambda: len(journal_ids()) >= 305, timeout=60)
    time.sleep(1)
    ids = journal_ids()
    assert sorted(ids) == sorted(e["id"] for e in before + during)
    backup.stop()
    # The checker's queue (no consumer running) holds each event exactly once too.
    delivered = [orjson.loads(m.body)["id"]
                 for m in drain_queue(production_settings.namespace, "checker")]
    assert sorted(delivered) == sorted(e["id"] for e in before + during)
