"""Concurrent deliveries written together (group commit) on the real PostgreSQL and RabbitMQ.

Each event is accepted once however many requests carry it at the same time,
each request is answered for its own events, and every accepted event is on
the broker exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from services.gateway.adapters.tables import outbox, received_events
from shared.settings import Settings
from tests.support import batch_body, drain_queue, make_event, signed

pytestmark = pytest.mark.integration


def test_the_same_events_posted_by_many_requests_at_once_are_accepted_once(
    production_settings: Settings, gateway_client: Any
) -> None:
    gateway, client = gateway_client(production_settings)
    app = client.application
    secret = production_settings.webhook_secrets[0]
    events = [make_event() for _ in range(30)]
    # Each event twice as a single delivery, and once in a batch with two others.
    bodies = [orjson.dumps(event) for event in events for _ in range(2)]
    bodies += [batch_body(events[i:i + 3]) for i in range(0, 30, 3)]
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(bodies))

    def post(body: bytes) -> None:
        with app.test_client() as own:
            start.wait(30)
            response = own.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))
        assert response.status_code == 202, response.json
        with lock:
            answers.append(response.json)

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == len(bodies)
    accepted = Counter[str]()
    for answer in answers:
        # The outbox when the loaded machine's broker missed the confirm timeout: durable too.
        assert answer["stored_in"] in ("broker", "outbox", None)
        assert answer["accepted"] + answer["duplicates"] in (1, 3)
        if "id" in answer:  # a single event: accepted or a duplicate, never both
            accepted[answer["id"]] += answer["status"] == "accepted"
    batch_accepted = sum(a["accepted"] for a in answers if "id" not in a)
    assert sum(accepted.values()) + batch_accepted == len(events)
    assert all(count <= 1 for count in accepted.values())
    delivered = Counter(orjson.loads(m.body)["id"] for m in
                        drain_queue(production_settings.namespace, "checker"))
    with gateway.engine.connect() as connection:
        kept = Counter(connection.execute(select(outbox.c.event_id)).scalars())
    # A group that timed out on its confirms may be on the broker too (the outbox re-sends
    # it; the inboxes absorb that): every event is durable somewhere, and none twice.
    ids = {event["id"] for event in events}
    assert set(delivered) | set(kept) == ids
    assert all(delivered[event_id] == 1 for event_id in ids - set(kept))
    assert all(count == 1 for count in kept.values())


def test_an_unknown_type_longer_than_the_id_table_column_is_recorded_and_its_resend_is_a_duplicate(
    production_settings: Settings, gateway_client: Any
) -> None:
    _, client = gateway_client(production_settings)
    secret = production_settings.webhook_secrets[0]
    long_type = "kundoluk." + "x" * 150  # the contract bounds no type's length; the column does
    event = {**make_event(), "type": long_type, "data": {"anything": 1}}
    body = orjson.dumps(event)
    first = client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))
    assert (first.status_code, first.json["status"]) == (202, "accepted")
    again = client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))
    assert (again.status_code, again.json["status"]) == (202, "duplicate")
    assert not any((production_settings.data_dir / "gateway-received-spool").glob("*"))


def test_a_group_that_fails_is_written_again_one_delivery_at_a_time(
    production_settings: Settings, gateway_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.gateway.handlers import intake

    gateway, client = gateway_client(production_settings)
    app = client.application
    secret = production_settings.webhook_secrets[0]
    events = [make_event() for _ in range(24)]
    culprit = events[5]["id"]
    record_new = intake.record_new
    refused: list[int] = []
    calls = iter(range(1_000_000))

    def refusing(connection: Any, candidates: Any, now: Any) -> set[str]:
        if next(calls) < 2:
            time.sleep(0.5)  # the first two writers are slow: the others wait and group
        if len(candidates) > 1 and any(e["id"] == culprit for e in candidates):
            refused.append(len(candidates))
            raise DataError("INSERT", {}, ValueError("refused for the test"))
        return record_new(connection, candidates, now)

    monkeypatch.setattr(intake, "record_new", refusing)
    start = threading.Barrier(len(events))
    answers: dict[str, dict[str, Any]] = {}

    def post(event: dict[str, Any]) -> None:
        body = orjson.dumps(event)
        with app.test_client() as own:
            start.wait(30)
            if event["id"] == culprit:
                time.sleep(0.2)  # arrives while both writers are busy: it waits in a group
            response = own.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))
        assert response.status_code == 202, response.json
        answers[event["id"]] = response.json

    threads = [threading.Thread(target=post, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert refused, "the culprit was never in a group"
    assert {a["status"] for a in answers.values()} == {"accepted"}
    assert len(answers) == len(events)
    # Alone, the culprit is written like any delivery (the refusal was for groups only).
    assert all(answer["stored_in"] in ("broker", "outbox") for answer in answers.values())
    with gateway.engine.connect() as connection:
        recorded = set(connection.execute(select(received_events.c.event_id)).scalars())
    assert recorded == {event["id"] for event in events}
