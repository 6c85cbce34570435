"""Concurrent deliveries written together (group commit) on the real PostgreSQL and RabbitMQ.

Each event is accepted once however many requests carry it at the same time,
each request is answered for its own events, and every accepted event is on
the broker exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from services.gateway.adapters.tables import outbox
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
