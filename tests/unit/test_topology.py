"""The message topology and its exported definitions file."""

from __future__ import annotations

import json
from pathlib import Path

from shared.events.schemas import DATA_SCHEMAS
from shared.messaging.topology import SUBSCRIPTIONS, Topology, resolve_queue_type

DEFINITIONS = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "definitions.json"


def test_queue_type_resolution() -> None:
    assert resolve_queue_type("auto", None) == "classic"
    assert resolve_queue_type("auto", {"version": "3.10.8"}) == "quorum"
    assert resolve_queue_type("auto", {"version": "3.7.28"}) == "classic"
    assert resolve_queue_type("classic", {"version": "3.12.0"}) == "classic"


def test_quorum_queues_carry_the_delivery_limit_and_dead_letter_settings() -> None:
    arguments = Topology("k", "quorum", 7).queue_arguments("checker")
    assert arguments == {
        "x-queue-type": "quorum", "x-delivery-limit": 7,
        "x-dead-letter-exchange": "k.checker.dlx",
        "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish",
    }
    classic = Topology("k", "classic", 7).queue_arguments("checker")
    assert classic == {"x-queue-type": "classic", "x-dead-letter-exchange": "k.checker.dlx"}


def test_each_service_binds_what_it_subscribes_to_plus_its_commands() -> None:
    queue = Topology("k", "quorum").queue("checker")
    keys = {(b.exchange.name, b.routing_key) for b in queue.bindings}
    assert {("k.events", t) for t in DATA_SCHEMAS} <= keys
    assert ("k.commands", "checker.#") in keys
    assert ("k.events", "#") in {(b.exchange.name, b.routing_key)
                                 for b in Topology("k").queue("backup").bindings}


def test_definitions_cover_every_queue_exchange_and_binding() -> None:
    document = Topology("k", "quorum", 5).definitions("/")
    queues = {q["name"] for q in document["queues"]}
    assert queues == {f"k.{s}" for s in SUBSCRIPTIONS} | {f"k.{s}.dead" for s in SUBSCRIPTIONS}
    exchanges = {e["name"] for e in document["exchanges"]}
    assert ({"k.events", "k.internal", "k.commands"} | {f"k.{s}.dlx" for s in SUBSCRIPTIONS}
            == exchanges)
    destinations = {b["destination"] for b in document["bindings"]}
    assert destinations == queues


def test_the_committed_definitions_file_is_current() -> None:
    """deploy/rabbitmq/definitions.json comes from `kozomol topology export`."""
    expected = Topology("kozomol", "quorum", 5).definitions("/")
    assert json.loads(DEFINITIONS.read_text()) == expected
