"""Exchanges, queues and bindings of Kozomol, declared in one place.

- one topic exchange for Kundoluk's events (the only one the webhook intake
  publishes to), routing key = event type;
- one topic exchange for the services' own events (``finding.*``, ``print.*``,
  ...; ``shared/events/owners.py``), routing key = event type;
- one topic exchange for commands, routing key = ``<service>.<command>``;
- per consuming service: a durable queue, a dead-letter exchange and a
  dead-letter queue; quorum queues (with a broker-side delivery limit) when the
  broker supports them, classic queues otherwise.

The same description is exported as a RabbitMQ definitions file
(``kozomol topology export``) for operators who pre-create the topology.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kombu import Connection, Exchange, Queue, binding

from shared.events.owners import Door, owner_of
from shared.events.schemas import DATA_SCHEMAS

#: The contract's event types the printer copies (what its documents show).
PRINTER_COPIES = ("attendance.recorded", "class.roster", "exemption.recorded", "lesson.deleted",
                  "lesson.recorded", "mark.deleted", "mark.recorded", "school.calendar",
                  "student.profile", "subject.plan", "teacher.profile")

#: The contract's event types the notifier folds (people, calendar, lessons, marks).
NOTIFIER_FOLDS = ("attendance.recorded", "class.roster", "lesson.deleted", "lesson.recorded",
                  "mark.deleted", "mark.recorded", "school.calendar", "student.profile",
                  "subject.plan", "teacher.profile")

#: Who listens to what: the event binding keys of each service's queue. The
#: checker judges the Kundoluk contract's entity events; the backup keeps every
#: event (known or not) in the journal record; the printer keeps its own copy of
#: the journal and prints; the gateway keeps the findings it shows administrators.
#: A key whose namespace a service owns is bound on the internal exchange, any
#: other on the public one, ``#`` on both (:meth:`Topology.exchanges_for_key`).
#:
#: This is a declaration the topology can read without importing a service; each
#: service's dispatcher (``services/<service>/main.py``) must handle exactly these
#: keys and :data:`COMMANDS`: a unit test per service says so, and a consumer
#: refuses to start otherwise (``shared/messaging/dispatcher.py: binding_drift``).
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "checker": tuple(sorted(DATA_SCHEMAS)),
    "backup": ("#",),
    # its own copy of the journal (printed journals, reports, statements), the
    # findings (the remarks sheet) and finished reports
    "printer": (*PRINTER_COPIES, "finding.*", "report.ready"),
    # the API's read models
    "gateway": ("finding.*", "rules.parameters.changed", "report.ready", "report.failed",
                "print.*", "backup.*", "archive.registered", "notification.logged",
                "class.roster",  # homeroom teachers, for class teachers' tokens
                # names for the listings and exports (contract v1.1)
                "school.calendar", "teacher.profile", "subject.plan"),
    # reminders, digests and notices: its own fold of the contract, the findings, the
    # deadlines' parameters and the scheduled reports
    "notifier": (*NOTIFIER_FOLDS, "finding.*", "rules.parameters.changed", "report.ready"),
}

#: The commands each service obeys; they reach its queue through ``<service>.#`` on
#: the commands exchange (routing key ``<service>.<command>``).
COMMANDS: dict[str, tuple[str, ...]] = {
    "checker": ("finding.update", "report.request", "rules.parameters.update"),
    "backup": ("archive.year_end", "backup.create"),
    "printer": ("print.request",),
    "gateway": (),
    "notifier": (),
}

QUORUM_MIN_VERSION = (3, 8)


@dataclass(frozen=True)
class Topology:
    namespace: str = "kozomol"
    queue_type: str = "quorum"  # "auto" until resolved against a broker
    delivery_limit: int = 5

    def resolved(self, properties: dict[str, Any] | None) -> Topology:
        """This topology with ``auto`` replaced by what the connected broker supports."""
        return replace(self, queue_type=resolve_queue_type(self.queue_type, properties))

    @property
    def events(self) -> Exchange:
        return Exchange(f"{self.namespace}.events", type="topic", durable=True)

    @property
    def internal(self) -> Exchange:
        """The services' own events; the webhook intake never publishes here."""
        return Exchange(f"{self.namespace}.internal", type="topic", durable=True)

    @property
    def commands(self) -> Exchange:
        return Exchange(f"{self.namespace}.commands", type="topic", durable=True)

    def exchange_for(self, event_type: str) -> Exchange:
        """Where an event of this type is published: internal if a service owns it."""
        return self.internal if owner_of(event_type) else self.events

    def exchanges_for_key(self, routing_key: str) -> tuple[Exchange, ...]:
        """Where a subscription's binding key applies (``#``: everywhere events go)."""
        if routing_key == "#":
            return (self.events, self.internal)
        return (self.exchange_for(routing_key),)

    def door_of(self, exchange_name: str | None) -> Door | None:
        """Which door (``shared.events.owners``) a delivery from this exchange came through."""
        doors: dict[str, Door] = {self.events.name: "public", self.internal.name: "internal",
                                  self.commands.name: "commands", "": "direct"}
        return doors.get(exchange_name) if exchange_name is not None else None

    def dead_letter_exchange(self, service: str) -> Exchange:
        return Exchange(f"{self.namespace}.{service}.dlx", type="fanout", durable=True)

    def queue_arguments(self, service: str) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "x-queue-type": self.queue_type,
            "x-dead-letter-exchange": self.dead_letter_exchange(service).name,
        }
        if self.queue_type == "quorum":
            # The broker counts deliveries and dead-letters past the limit, even
            # when the consumer dies mid-message; at-least-once dead-lettering
            # keeps the poison message instead of dropping it on the way.
            arguments["x-delivery-limit"] = self.delivery_limit
            arguments["x-dead-letter-strategy"] = "at-least-once"
            arguments["x-overflow"] = "reject-publish"
        return arguments

    def queue(self, service: str) -> Queue:
        bindings = [
            *(_binding(exchange, key) for key in SUBSCRIPTIONS[service]
              for exchange in self.exchanges_for_key(key)),
            _binding(self.commands, f"{service}.#"),
        ]
        return Queue(
            f"{self.namespace}.{service}",
            bindings=bindings,
            durable=True,
            queue_arguments=self.queue_arguments(service),
        )

    def dead_letter_queue(self, service: str) -> Queue:
        return Queue(
            f"{self.namespace}.{service}.dead",
            exchange=self.dead_letter_exchange(service),
            routing_key="#",
            durable=True,
            queue_arguments={"x-queue-type": self.queue_type},
        )

    def declare(self, connection: Connection) -> None:
        """Declare everything (idempotent); publishers call it before their first publish."""
        assert self.queue_type != "auto", "resolve the topology against the broker first"
        channel = connection.default_channel
        self.events(channel).declare()
        self.internal(channel).declare()
        self.commands(channel).declare()
        for service in SUBSCRIPTIONS:
            self.dead_letter_exchange(service)(channel).declare()
            self.dead_letter_queue(service)(channel).declare()
            self.queue(service)(channel).declare()

    def definitions(self, vhost: str = "/") -> dict[str, Any]:
        """The topology as a RabbitMQ definitions document (``rabbitmqctl import_definitions``)."""
        exchanges = [self.events, self.internal, self.commands] + [
            self.dead_letter_exchange(service) for service in SUBSCRIPTIONS
        ]
        queues = [self.queue(s) for s in SUBSCRIPTIONS] + [
            self.dead_letter_queue(s) for s in SUBSCRIPTIONS
        ]
        bindings = []
        for queue in queues:
            for queue_binding in queue.bindings or []:
                bindings.append(_binding_definition(vhost, queue_binding.exchange.name,
                                                    queue.name, queue_binding.routing_key))
            if queue.exchange is not None and queue.exchange.name:
                bindings.append(_binding_definition(vhost, queue.exchange.name, queue.name,
                                                    queue.routing_key))
        return {
            "vhosts": [{"name": vhost}],
            "exchanges": [
                {"name": e.name, "vhost": vhost, "type": e.type, "durable": True,
                 "auto_delete": False, "internal": False, "arguments": {}}
                for e in exchanges
            ],
            "queues": [
                {"name": q.name, "vhost": vhost, "durable": True, "auto_delete": False,
                 "arguments": dict(getattr(q, "queue_arguments", None) or {})}
                for q in queues
            ],
            # kombu keeps a queue's bindings in a set: sort them so the file is stable.
            "bindings": sorted(bindings, key=lambda b: (b["destination"], b["source"],
                                                         b["routing_key"])),
        }


def _binding(exchange: Exchange, routing_key: str) -> binding:
    return binding(exchange, routing_key=routing_key)


def _binding_definition(vhost: str, source: str, queue: str, key: str) -> dict[str, Any]:
    return {"source": source, "vhost": vhost, "destination": queue,
            "destination_type": "queue", "routing_key": key, "arguments": {}}


def resolve_queue_type(requested: str, server_properties: dict[str, Any] | None) -> str:
    """``auto`` picks quorum queues when the broker is RabbitMQ 3.8 or newer.

    ``server_properties`` is what the broker announced on connecting; ``None``
    (the in-process broker) has no quorum queues.
    """
    if requested != "auto":
        return requested
    if not server_properties:
        return "classic"
    version = str(server_properties.get("version", "0"))
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    return "quorum" if parts >= QUORUM_MIN_VERSION else "classic"


def server_properties(connection: Connection) -> dict[str, Any] | None:
    """The broker's announced properties, or None for the in-process broker."""
    if connection.transport.driver_type == "memory":
        return None
    return dict(connection.connection.server_properties)
