"""What the gateway answers when its database or the broker cannot be reached."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest

from shared.settings import Settings
from tests.support import batch_body, drain_queue, make_event, signed

pytestmark = pytest.mark.integration

NO_BROKER = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1
NO_DATABASE = "postgresql://postgres@127.0.0.1:1/nothing"


def bootstrapped(settings: Settings, migrated: Any, **changes: Any) -> tuple[Any, Any]:
    from services.gateway.app import create_app
    from services.gateway.runtime import bootstrap

    migrated(settings)
    gateway = bootstrap(replace(settings, **changes))
    return gateway, create_app(gateway).test_client()


def test_broker_down_means_outbox_and_202(production_settings: Settings, migrated: Any) -> None:
    gateway, client = bootstrapped(production_settings, migrated, broker_url=NO_BROKER,
                                   broker_connect_timeout=0.5)
    try:
        event = make_event()
        body = orjson.dumps(event)
        response = client.post("/webhooks/kundoluk", data=body,
                               headers=signed(production_settings.webhook_secrets[0], body))
        assert response.status_code == 202
        assert response.json["stored_in"] == "outbox"
        assert gateway.relay.depth() == 1
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json["checks"]["database"] == "ok"
        assert ready.json["checks"]["broker"].startswith("unavailable")
    finally:
        gateway.close()


def test_database_down_but_broker_up_still_202(
    production_settings: Settings, migrated: Any
) -> None:
    gateway, client = bootstrapped(production_settings, migrated, database_url=NO_DATABASE)
    try:
        events = [make_event() for _ in range(3)]
        body = batch_body(events)
        response = client.post("/webhooks/kundoluk", data=body,
                               headers=signed(production_settings.webhook_secrets[0], body))
        assert response.status_code == 202
        assert (response.json["accepted"], response.json["stored_in"]) == (3, "broker")
        delivered = drain_queue(production_settings.namespace, "backup")
        assert sorted(orjson.loads(m.body)["id"] for m in delivered) == \
            sorted(e["id"] for e in events)
        # Rejected items need the database (the quarantine): refuse the whole delivery.
        body = batch_body([make_event(), make_event(value=3)])
        refused = client.post("/webhooks/kundoluk", data=body,
                              headers=signed(production_settings.webhook_secrets[0], body))
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "30"
    finally:
        gateway.close()


def test_both_down_is_503_with_retry_after(production_settings: Settings, migrated: Any) -> None:
    gateway, client = bootstrapped(production_settings, migrated, database_url=NO_DATABASE,
                                   broker_url=NO_BROKER, broker_connect_timeout=0.5)
    try:
        body = orjson.dumps(make_event())
        response = client.post("/webhooks/kundoluk", data=body,
                               headers=signed(production_settings.webhook_secrets[0], body))
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert response.json["error"]["code"] == "unavailable"
    finally:
        gateway.close()
