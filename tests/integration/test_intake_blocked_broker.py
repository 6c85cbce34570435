"""Webhooks during a RabbitMQ memory alarm: answered from the outbox at once, drained after.

Issue 19: during a 40 s memory alarm the intake answered almost nothing,
because each publish waited for confirms a blocked connection never gets. The
broker here is a node of this test's own (the shared one is never alarmed).
The publish timeout is set to 60 s, so an intake that waited for it would
miss this test's 30 s bound by far; the alarm is held for the whole time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from kombu import Connection

from shared.settings import Settings
from tests.private_broker import BrokerNode
from tests.support import make_event, signed, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def private_node(tmp_path: Path) -> Iterator[BrokerNode]:
    node = BrokerNode(tmp_path / "rabbit", "kozomolalarm")
    node.start()
    try:
        yield node
    finally:
        node.stop()


def queued_ids(url: str, queue: str) -> list[str]:
    ids: list[str] = []
    with Connection(url, connect_timeout=5) as connection:
        channel = connection.channel()
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            ids.append(orjson.loads(message.body)["id"])
    return ids


def test_a_memory_alarm_sends_webhooks_to_the_outbox_and_it_drains_after(
    production_settings: Settings, gateway_client: Any, private_node: BrokerNode
) -> None:
    settings = replace(production_settings, broker_url=private_node.url, publish_timeout=60.0,
                       outbox_relay_interval=0.2)
    gateway, client = gateway_client(settings)
    gateway.relay.start()  # as services/gateway/server.py does
    secret = settings.webhook_secrets[0]

    def post(event: dict[str, Any]) -> Any:
        body = orjson.dumps(event)
        return client.post("/webhooks/kundoluk", data=body, headers=signed(secret, body))

    before = make_event()
    assert post(before).json["stored_in"] == "broker"

    private_node.alarm(raised=True)
    during = [make_event() for _ in range(20)]
    answers: list[Any] = []
    posting = threading.Thread(target=lambda: answers.extend(post(e) for e in during),
                               daemon=True)
    posting.start()
    posting.join(30)
    assert not posting.is_alive(), f"only {len(answers)} of 20 answered during the alarm"
    assert [a.status_code for a in answers] == [202] * 20
    assert {a.json["stored_in"] for a in answers} == {"outbox"}
    # The relay tried meanwhile (every 0.2 s) and could not drain while the alarm lasts.
    assert gateway.relay.depth() == 20
    # Still ready: the broker is reachable and the intake answers (from the outbox), so a
    # load balancer must not take every gateway out during an alarm.
    assert client.get("/readyz").status_code == 200
    # Re-sent during the alarm: recognised as a duplicate, not taken twice.
    assert post(during[0]).json["duplicates"] == 1

    private_node.alarm(raised=False)
    wait_for(lambda: gateway.relay.depth() == 0, timeout=60)
    assert post(make_event()).json["stored_in"] == "broker"  # publishing directly again
    ids = queued_ids(private_node.url, f"{settings.namespace}.backup")
    # Everything is there; a message sent just before the block may come twice
    # (its confirm was given up), which the consumers' inboxes absorb.
    assert {before["id"], *(e["id"] for e in during)} <= set(ids)
