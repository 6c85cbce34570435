"""Which door a message may come through (issue 14, item 1), as a rule and in the topology."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from shared.events.envelope import Event, new_envelope
from shared.events.owners import SERVICE_NAMESPACES, admission_refusal, owner_of
from shared.events.schemas import DATA_SCHEMAS
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.topology import SUBSCRIPTIONS, Topology
from tests.message_samples import SAMPLES

NOW = datetime(2026, 11, 28, 20, tzinfo=UTC)


def test_the_services_own_the_namespaces_of_their_messages() -> None:
    assert owner_of("finding.opened") == owner_of("rules.parameters.changed") == "checker"
    assert owner_of("report.ready") == "checker"
    assert owner_of("print.completed") == "printer"
    assert owner_of("backup.verified") == owner_of("archive.registered") == "backup"
    assert owner_of("mark.recorded") is None and owner_of("homework.checked") is None
    assert not {t.split(".")[0] for t in DATA_SCHEMAS} & set(SERVICE_NAMESPACES)


def test_a_service_event_is_admitted_only_from_its_owner_on_the_internal_door() -> None:
    assert admission_refusal("finding.opened", "internal", "checker") is None
    assert admission_refusal("finding.opened", "public", "checker")
    assert admission_refusal("finding.opened", None, "checker")
    assert admission_refusal("finding.opened", "internal", "printer")
    assert admission_refusal("finding.opened", "internal", None)
    assert admission_refusal("mark.recorded", "public", None) is None
    assert admission_refusal("homework.checked", "public", None) is None
    assert admission_refusal("mark.recorded", "internal", "checker")
    assert admission_refusal("print.request", "commands", "gateway") is None
    # dead letters an operator moved back into the queue (the default exchange)
    assert admission_refusal("finding.opened", "direct", "checker") is None
    assert admission_refusal("finding.opened", "direct", None)
    assert admission_refusal("mark.recorded", "direct", None) is None


def test_service_envelopes_name_their_publisher() -> None:
    assert new_envelope("chk", "finding.opened", "s", SAMPLES["finding.opened"],
                        NOW)["source"] == "checker"
    assert new_envelope("prn", "print.completed", "s", SAMPLES["print.completed"],
                        NOW)["source"] == "printer"
    assert new_envelope("bak", "backup.verified", "*", SAMPLES["backup.verified"],
                        NOW)["source"] == "backup"
    assert new_envelope("cmd", "print.request", "s", SAMPLES["print.request"], NOW,
                        source="backup")["source"] == "backup"
    event = Event.from_envelope(new_envelope("chk", "finding.opened", "s",
                                             SAMPLES["finding.opened"], NOW), door="internal")
    assert (event.source, event.door) == ("checker", "internal")
    assert Event.from_envelope(event.to_envelope()).source == "checker"


def test_no_service_event_is_bound_on_the_public_exchange() -> None:
    """The intake publishes only to <ns>.events: nothing a service owns is routed from it."""
    topology = Topology("k", "quorum")
    for service in SUBSCRIPTIONS:
        keys = {(b.exchange.name, b.routing_key) for b in topology.queue(service).bindings}
        public = {key for exchange, key in keys if exchange == "k.events"}
        assert not {key for key in public if owner_of(key)}, service
        internal = {key for exchange, key in keys if exchange == "k.internal"}
        assert all(owner_of(key) or key == "#" for key in internal), service
    gateway = {(b.exchange.name, b.routing_key) for b in topology.queue("gateway").bindings}
    assert ("k.internal", "finding.*") in gateway and ("k.events", "finding.*") not in gateway
    assert topology.exchange_for("print.completed").name == "k.internal"
    assert topology.exchange_for("mark.recorded").name == "k.events"
    assert topology.door_of("k.internal") == "internal" and topology.door_of("x") is None
    assert topology.door_of("") == "direct" and topology.door_of(None) is None


def test_the_dispatcher_refuses_before_any_handler_even_a_catch_all() -> None:
    seen: list[str] = []

    def record(_connection: Connection, events: list[Event]) -> None:
        seen.extend(event.id for event in events)

    handlers = Dispatcher("printer")
    handlers.on("#", record)
    handlers.on("finding.opened", record)
    events = [
        Event("forged-public", "finding.opened", "s", NOW, {}, "checker", "public"),
        Event("forged-sender", "finding.opened", "s", NOW, {}, "backup", "internal"),
        Event("genuine", "finding.opened", "s", NOW, {}, "checker", "internal"),
        Event("mark", "mark.recorded", "s", NOW, {}, None, "public"),
    ]
    handlers(None, events)  # type: ignore[arg-type]
    assert seen == ["genuine", "mark", "genuine"]
