"""The webhook endpoint's answers, on the embedded default (SQLite + in-process broker)."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from kombu import Connection

from shared.settings import Settings
from tests.support import batch_body, make_event, signed


@pytest.fixture
def gateway(embedded_settings: Settings, gateway_client: Any) -> tuple[Any, Any]:
    return gateway_client(embedded_settings)


def post(client: Any, secret: str, body: bytes, **header_overrides: str) -> Any:
    return client.post("/webhooks/kundoluk", data=body,
                       headers=signed(secret, body, **header_overrides))


def delivered(settings: Settings, service: str = "backup") -> list[dict[str, Any]]:
    """Everything waiting in a service's queue of the in-process broker."""
    bodies = []
    with Connection("memory://") as connection:
        queue = connection.SimpleQueue(f"{settings.namespace}.{service}")
        while True:
            try:
                message = queue.get(timeout=0.05)
            except queue.Empty:
                break
            bodies.append(orjson.loads(message.body))
            message.ack()
        queue.close()
    return bodies


def test_single_event_is_accepted_once_and_then_answered_as_duplicate(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    _, client = gateway
    secret = embedded_settings.webhook_secrets[0]
    event = make_event()
    first = post(client, secret, orjson.dumps(event))
    assert first.status_code == 202, first.json
    assert first.json | {"duplicate_ids": []} == {
        "accepted": 1, "duplicates": 0, "duplicate_ids": [], "id": event["id"],
        "status": "accepted", "stored_in": "broker"}
    again = post(client, secret, orjson.dumps(event))
    assert again.status_code == 202
    assert again.json["status"] == "duplicate"
    assert again.json["duplicate_ids"] == [event["id"]]
    assert [e["id"] for e in delivered(embedded_settings)] == [event["id"]]


def test_batch_with_repeats_and_rejections(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    _, client = gateway
    secret = embedded_settings.webhook_secrets[0]
    good = [make_event() for _ in range(3)]
    bad = make_event(value=5)
    response = post(client, secret, batch_body([*good, good[0], bad]))
    assert response.status_code == 202
    assert response.json["accepted"] == 3
    assert response.json["duplicate_ids"] == [good[0]["id"]]
    assert response.json["rejected"] == [
        {"index": 4, "id": bad["id"], "errors": {"data": {"value": ["Not a valid string."]}}}]
    assert sorted(e["id"] for e in delivered(embedded_settings)) == sorted(e["id"] for e in good)


def test_unknown_event_types_are_accepted_and_routed_to_the_backup_only(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    _, client = gateway
    event = make_event("homework.checked")
    response = post(client, embedded_settings.webhook_secrets[0], orjson.dumps(event))
    assert response.status_code == 202
    assert [e["id"] for e in delivered(embedded_settings, "backup")] == [event["id"]]
    assert delivered(embedded_settings, "checker") == []


@pytest.mark.parametrize(("overrides", "code"), [
    ({"webhook_signature": ""}, "missing_signature_headers"),
    ({"webhook_id": ""}, "missing_signature_headers"),
    ({"webhook_timestamp": ""}, "missing_signature_headers"),
    ({"webhook_signature": "v1,AAAA"}, "invalid_signature"),
    ({"webhook_signature": "not a signature at all"}, "invalid_signature"),
    ({"webhook_timestamp": str(int(time.time()) - 301)}, "stale_timestamp"),
    ({"webhook_timestamp": "soon"}, "invalid_signature_headers"),
])
def test_signature_failures_are_401_and_reach_nothing(
    gateway: tuple[Any, Any], embedded_settings: Settings, overrides: dict[str, str], code: str
) -> None:
    _, client = gateway
    response = post(client, embedded_settings.webhook_secrets[0],
                    orjson.dumps(make_event()), **overrides)
    assert response.status_code == 401
    assert response.json["error"]["code"] == code
    assert delivered(embedded_settings) == []


def test_a_delivery_signed_with_another_secret_is_401(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    from shared.settings import new_webhook_secret

    _, client = gateway
    response = post(client, new_webhook_secret(), orjson.dumps(make_event()))
    assert response.status_code == 401


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "malformed_json"),
    (b"\xff\xfe\xfd", 400, "not_utf8"),
    (b"[]", 422, "invalid_body"),
])
def test_bodies_that_are_not_events(
    gateway: tuple[Any, Any], embedded_settings: Settings, body: bytes, status: int, code: str
) -> None:
    _, client = gateway
    response = post(client, embedded_settings.webhook_secrets[0], body)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    assert delivered(embedded_settings) == []


def test_invalid_single_event_is_422_naming_the_field_and_kept_in_quarantine(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    gw, client = gateway
    event = make_event(value=5, date="tomorrow")
    response = post(client, embedded_settings.webhook_secrets[0], orjson.dumps(event))
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "invalid_event"
    assert set(error["details"]["data"]) == {"value", "date"}
    assert delivered(embedded_settings) == []
    from sqlalchemy import select

    from services.gateway.adapters.tables import quarantine

    with gw.engine.connect() as connection:
        kept = connection.execute(select(quarantine.c.event_id, quarantine.c.body)).all()
    assert [(row.event_id, orjson.loads(row.body)) for row in kept] == [(event["id"], event)]


def test_wrong_content_type_is_415(gateway: tuple[Any, Any], embedded_settings: Settings) -> None:
    _, client = gateway
    body = orjson.dumps(make_event())
    headers = {**signed(embedded_settings.webhook_secrets[0], body),
               "content-type": "text/plain"}
    response = client.post("/webhooks/kundoluk", data=body, headers=headers)
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_oversize_body_is_413_before_anything_else(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    _, client = gateway
    event = make_event(topic="x" * (1024 * 1024))
    body = orjson.dumps(event)
    response = post(client, embedded_settings.webhook_secrets[0], body)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert delivered(embedded_settings) == []


def test_more_than_1000_events_is_413(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    _, client = gateway
    events = [{"id": f"e{i}"} for i in range(1001)]
    response = post(client, embedded_settings.webhook_secrets[0], batch_body(events))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_many_events"


def test_every_error_body_has_the_contract_shape(
    gateway: tuple[Any, Any], embedded_settings: Settings
) -> None:
    _, client = gateway
    for response in (client.get("/nowhere"), client.get("/webhooks/kundoluk"),
                     client.post("/webhooks/kundoluk", data=b"{}",
                                 headers={"content-type": "application/json"})):
        assert set(response.json) == {"error"}
        assert set(response.json["error"]) == {"code", "message", "details"}


def test_ops_endpoints(gateway: tuple[Any, Any], embedded_settings: Settings) -> None:
    _, client = gateway
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "broker": "ok"}
    post(client, embedded_settings.webhook_secrets[0], orjson.dumps(make_event()))
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'kozomol_webhook_requests_total{status="202"}' in metrics
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert "/webhooks/kundoluk" in document["paths"]
    assert "MarkRecordedData" in document["components"]["schemas"]
    schema = client.get("/schemas/events/mark.recorded.json").json
    assert schema["properties"]["type"] == {"const": "mark.recorded"}
    assert client.get("/schemas/events/nothing.json").status_code == 404


def test_too_many_requests_is_429_with_retry_after(
    embedded_settings: Settings, gateway_client: Any
) -> None:
    from dataclasses import replace

    _, client = gateway_client(replace(embedded_settings, webhook_rate_limit="2/minute"))
    secret = embedded_settings.webhook_secrets[0]
    statuses = [post(client, secret, orjson.dumps(make_event())).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    limited = post(client, secret, orjson.dumps(make_event()))
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/healthz").status_code == 200  # only the webhook endpoint is limited
