"""Each service's dispatcher handles exactly what its queue is bound to (issue 13).

The bindings are declared in shared/messaging/topology.py (publishers declare the
whole topology before their first publish, and shared/ imports no service); these
tests, and the check a consumer makes when it starts, keep the two from drifting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection

from services.backup import main as backup_main
from services.checker import main as checker_main
from services.gateway import consumer as gateway_consumer
from services.notifier import main as notifier_main
from services.printer import main as printer_main
from services.printer.handlers import Printer
from shared.events.envelope import Event
from shared.messaging.dispatcher import (
    BindingDrift,
    Dispatcher,
    DuplicateCommandHandler,
    binding_drift,
    key_matches,
)
from shared.messaging.topology import COMMANDS, SUBSCRIPTIONS, Topology
from shared.service import bootstrap_consumer, check_bindings
from shared.settings import Settings
from shared.storage import LocalFileStore

NOW = datetime(2026, 9, 1, 8, tzinfo=UTC)


def service_dispatchers(settings: Settings, tmp_path: Path) -> dict[str, Dispatcher]:
    return {
        "checker": checker_main.dispatcher(settings, lambda: NOW),
        "printer": printer_main.dispatcher(Printer(LocalFileStore(tmp_path), settings.font_dir)),
        "backup": backup_main.dispatcher(),
        "notifier": notifier_main.dispatcher(),
        "gateway": gateway_consumer.dispatcher(),
    }


@pytest.mark.parametrize("service", sorted(SUBSCRIPTIONS))
def test_each_service_handles_exactly_what_its_queue_is_bound_to(
    service: str, embedded_settings: Settings, tmp_path: Path
) -> None:
    dispatcher = service_dispatchers(embedded_settings, tmp_path)[service]
    assert dispatcher.service == service
    assert dispatcher.event_keys == frozenset(SUBSCRIPTIONS[service])
    assert dispatcher.command_types == frozenset(COMMANDS[service])
    assert binding_drift(dispatcher, SUBSCRIPTIONS[service], COMMANDS[service]) is None
    # What the queue is really bound with: the event keys on their exchanges, and the
    # service's commands through <service>.# on the commands exchange.
    topology = Topology("k", "quorum")
    keys = {(b.exchange.name, b.routing_key) for b in topology.queue(service).bindings}
    assert {key for _, key in keys if key != f"{service}.#"} == set(dispatcher.event_keys)
    assert ("k.commands", f"{service}.#") in keys


def test_every_service_with_a_queue_has_a_dispatcher(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    dispatchers = service_dispatchers(embedded_settings, tmp_path)
    assert set(dispatchers) == set(SUBSCRIPTIONS) == set(COMMANDS)


def test_a_catch_all_covers_the_specific_keys_beside_it() -> None:
    """The backup's journal (``#``) is its binding; print.completed beside it adds none."""
    dispatcher = Dispatcher("backup")
    dispatcher.on("#", lambda connection, events: None)
    dispatcher.on("print.completed", lambda connection, events: None)
    assert dispatcher.event_keys == {"#"}
    printer = Dispatcher("printer")
    printer.on(("finding.*", "finding.opened", "mark.recorded"), lambda c, e: None)
    assert printer.event_keys == {"finding.*", "mark.recorded"}


def test_topic_keys_match_as_rabbitmq_reads_them() -> None:
    assert key_matches("#", "finding.opened") and key_matches("#", "x")
    assert key_matches("finding.*", "finding.opened")
    assert not key_matches("finding.*", "finding.opened.late")
    assert key_matches("finding.#", "finding.opened.late") and key_matches("finding.#", "finding")
    assert not key_matches("finding.*", "findings.opened")
    assert key_matches("mark.recorded", "mark.recorded")
    assert not key_matches("mark.recorded", "mark.deleted")


def test_a_command_has_exactly_one_handler() -> None:
    dispatcher = Dispatcher("checker")
    dispatcher.command("finding.update", lambda connection, commands: None)
    with pytest.raises(DuplicateCommandHandler, match=r"finding\.update"):
        dispatcher.command("finding.update", lambda connection, commands: None)


def event(event_id: str, event_type: str, door: str, source: str | None = None) -> Event:
    return Event(event_id, event_type, "s", NOW, {}, source, door)


def test_commands_go_to_their_handler_events_to_every_subscriber_in_order() -> None:
    calls: list[tuple[str, list[str]]] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def record(_connection: Connection, events: list[Event]) -> None:
            calls.append((name, [e.id for e in events]))
        return record

    dispatcher = Dispatcher("printer")
    dispatcher.on("#", recorder("all"))
    dispatcher.on("finding.*", recorder("findings"))
    dispatcher.on(("finding.opened", "mark.recorded"), recorder("some"))
    dispatcher.command("print.request", recorder("print"))
    dispatcher(None, [  # type: ignore[arg-type]
        event("m1", "mark.recorded", "public"),
        event("f1", "finding.opened", "internal", "checker"),
        event("c1", "print.request", "commands", "gateway"),
        event("f2", "finding.closed", "internal", "checker"),
        event("c2", "unknown.command", "commands", "gateway"),
    ])
    # Commands reach only their own handler, never the catch-all; unknown ones nothing.
    assert calls == [("all", ["m1", "f1", "f2"]), ("findings", ["f1", "f2"]),
                     ("some", ["m1", "f1"]), ("print", ["c1"])]


def test_a_handlers_error_is_raised_so_the_batch_is_retried() -> None:
    def broken(_connection: Connection, _events: list[Event]) -> None:
        raise RuntimeError("the handler failed")

    for register in (lambda d: d.on("mark.recorded", broken),
                     lambda d: d.command("print.request", broken)):
        dispatcher = Dispatcher("printer")
        register(dispatcher)
        with pytest.raises(RuntimeError, match="the handler failed"):
            dispatcher(None, [event("m1", "mark.recorded", "public"),  # type: ignore[arg-type]
                              event("c1", "print.request", "commands", "gateway")])


def test_a_drifting_dispatcher_is_named_and_its_consumer_refuses_to_start(
    embedded_settings: Settings,
) -> None:
    drifting = Dispatcher("printer")
    drifting.on(("mark.recorded", "report.failed"), lambda connection, events: None)
    drifting.command("print.request", lambda connection, commands: None)
    drifting.command("print.cancel", lambda connection, commands: None)
    drift = binding_drift(drifting, SUBSCRIPTIONS["printer"], COMMANDS["printer"])
    assert drift is not None
    assert "events handled but not bound: report.failed" in drift
    assert "events bound but not handled: " in drift and "finding.*" in drift
    assert "commands handled but not bound: print.cancel" in drift
    with pytest.raises(BindingDrift, match="kozomol printer refuses to start"):
        check_bindings("printer", drifting)
    from services.printer.adapters.tables import inbox

    service = bootstrap_consumer(embedded_settings, "printer", inbox, drifting)
    try:
        with pytest.raises(BindingDrift, match=r"report\.failed"):
            service.start()
        assert service.thread is None  # nothing consumed
    finally:
        service.stop()
