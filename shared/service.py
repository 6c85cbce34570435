"""Wiring of a consuming service: database, topology, consumer thread.

``bootstrap`` is the only place a consuming service is assembled, so the same
code runs on the embedded default (SQLite + in-process broker) and in
production (PostgreSQL + RabbitMQ) with nothing but settings changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kombu import Connection
from sqlalchemy import Connection as DbConnection
from sqlalchemy import Engine, Table

from shared import metrics
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.events.owners import admission_refusal
from shared.messaging.consumer import EventConsumer
from shared.messaging.inbox import InboxProcessor
from shared.messaging.topology import Topology
from shared.settings import Settings

log = logging.getLogger(__name__)

class Companion(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


#: A handler reacts to the new events of one type from a batch, in its transaction.
Handler = Callable[[DbConnection, list[Event]], None]


@dataclass
class Handlers:
    """Event type → handler; types without a handler are counted and ignored."""

    service: str
    by_type: dict[str, Handler] = field(default_factory=dict)
    catch_all: Handler | None = None

    def __call__(self, connection: DbConnection, events: list[Event]) -> None:
        events = self._admitted(events)
        if self.catch_all is not None:
            self.catch_all(connection, events)
        grouped: dict[str, list[Event]] = {}
        for event in events:
            grouped.setdefault(event.type, []).append(event)
        for event_type, group in grouped.items():
            handler = self.by_type.get(event_type)
            if handler is not None:
                handler(connection, group)
            elif self.catch_all is None:
                metrics.EVENTS_IGNORED.labels(self.service, event_type).inc(len(group))

    def _admitted(self, events: list[Event]) -> list[Event]:
        """The events whose door and source fit their type; the rest are refused.

        A refused event (a service's type through the public door, or from
        another sender) is logged and counted, and has no effect: it is what a
        forged webhook would look like.
        """
        admitted = []
        for event in events:
            reason = admission_refusal(event.type, event.door, event.source)
            if reason is None:
                admitted.append(event)
                continue
            metrics.EVENTS_REFUSED.labels(self.service, str(event.door)).inc()
            log.warning("event refused: wrong door or sender", extra={
                "service": self.service, "event_id": event.id, "event_type": event.type,
                "door": event.door, "source": event.source, "reason": reason})
        return admitted


def broker_connection(settings: Settings) -> Connection:
    return Connection(
        settings.broker_url,
        connect_timeout=settings.broker_connect_timeout,
        heartbeat=30,
        transport_options={"polling_interval": 0.01},
    )


def queue_backlog(settings: Settings, name: str) -> int:
    """Deliveries waiting in a service's queue (0 when the broker cannot say)."""
    queue = topology_for(settings).queue(name).name
    try:
        with broker_connection(settings) as connection:
            declared = connection.default_channel.queue_declare(queue, passive=True)
            return int(declared.message_count)
    except Exception:
        log.debug("queue backlog unknown", extra={"queue": queue})
        return 0


def topology_for(settings: Settings) -> Topology:
    """The configured topology; ``auto`` is resolved when a broker is connected."""
    return Topology(
        namespace=settings.namespace,
        queue_type=settings.queue_type,
        delivery_limit=settings.delivery_limit,
    )


@dataclass
class ConsumerService:
    """One consuming service: its engine, inbox and consumer thread."""

    name: str
    engine: Engine
    consumer: EventConsumer
    thread: threading.Thread | None = None
    #: background parts started and stopped with the consumer (e.g. the checker's sweeper)
    companions: list[Companion] = field(default_factory=list)

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.consumer.run_until_stopped, name=f"{self.name}-consumer", daemon=True
        )
        self.thread.start()
        for companion in self.companions:
            companion.start()

    def stop(self, timeout: float = 10.0) -> None:
        for companion in self.companions:
            companion.stop()
        self.consumer.should_stop = True
        if self.thread is not None:
            self.thread.join(timeout)
        self.engine.dispose()

    def run_forever(self) -> None:
        self.start()
        assert self.thread is not None
        self.thread.join()


def bootstrap_consumer(
    settings: Settings,
    name: str,
    inbox: Table,
    handlers: Handlers,
    *,
    engine: Engine | None = None,
) -> ConsumerService:
    engine = engine or make_engine(settings.database_url_for(name))
    consumer = EventConsumer(
        broker_connection(settings),
        name,
        topology_for(settings),
        InboxProcessor(engine, inbox, handlers),
        prefetch=settings.prefetch,
        batch_size=settings.consumer_batch,
    )
    return ConsumerService(name=name, engine=engine, consumer=consumer)
