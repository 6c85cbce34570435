"""Wiring of a consuming service: database, topology, consumer thread, dispatcher check.

``bootstrap`` is the only place a consuming service is assembled, so the same
code runs on the embedded default (SQLite + in-process broker) and in
production (PostgreSQL + RabbitMQ) with nothing but settings changed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Protocol

from kombu import Connection
from sqlalchemy import Engine, Table

from shared.db.engine import make_engine
from shared.messaging.consumer import EventConsumer
from shared.messaging.dispatcher import BindingDrift, Dispatcher, binding_drift
from shared.messaging.inbox import InboxProcessor
from shared.messaging.publisher import ThreadPublishers, make_publisher
from shared.messaging.topology import COMMANDS, SUBSCRIPTIONS, Topology
from shared.settings import Settings

log = logging.getLogger(__name__)


class Companion(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def check_bindings(name: str, dispatcher: Dispatcher) -> None:
    """Refuse to consume (with a message saying what differs) if the queue is bound to other
    messages than the dispatcher handles: some would pile up unhandled, or never come."""
    drift = binding_drift(dispatcher, SUBSCRIPTIONS[name], COMMANDS[name])
    if drift is not None:
        log.critical("refusing to start: %s", drift, extra={"service": name})
        raise BindingDrift(f"kozomol {name} refuses to start: {drift}")


def broker_connection(settings: Settings) -> Connection:
    return Connection(
        settings.broker_url,
        connect_timeout=settings.broker_connect_timeout,
        heartbeat=30,
        transport_options={"polling_interval": 0.01},
    )


class QueueBacklog:
    """Deliveries waiting in a service's queue (0 when the broker cannot say).

    Asked every sweep, so it keeps one broker connection per thread that asks,
    opened on first use and opened again after a failure, instead of one per
    question.
    """

    def __init__(self, settings: Settings, name: str) -> None:
        self._settings = settings
        self.queue = topology_for(settings).queue(name).name
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._lock = threading.Lock()

    def __call__(self) -> int:
        for _attempt in range(2):  # the kept connection, then a fresh one if it failed
            try:
                channel = self._connection().default_channel
                return int(channel.queue_declare(self.queue, passive=True).message_count)
            except Exception:
                self._forget()
        log.debug("queue backlog unknown", extra={"queue": self.queue})
        return 0

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = broker_connection(self._settings)
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def _forget(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with self._lock:
                if connection in self._opened:
                    self._opened.remove(connection)
            with contextlib.suppress(Exception):
                connection.release()

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            with contextlib.suppress(Exception):
                connection.release()


def thread_publishers(settings: Settings, topology: Topology) -> ThreadPublishers:
    """A publisher per thread that publishes (each its own broker connection)."""
    return ThreadPublishers(lambda: make_publisher(
        settings.broker_url, topology, connect_timeout=settings.broker_connect_timeout,
        confirm_timeout=settings.publish_timeout))


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
    dispatcher: Dispatcher
    thread: threading.Thread | None = None
    #: background parts started and stopped with the consumer (e.g. the checker's sweeper)
    companions: list[Companion] = field(default_factory=list)

    def start(self) -> None:
        check_bindings(self.name, self.dispatcher)
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
    dispatcher: Dispatcher,
    *,
    engine: Engine | None = None,
) -> ConsumerService:
    """The consumer of a service whose dependencies (``engine``) may be built already."""
    engine = engine or make_engine(settings.database_url_for(name))
    consumer = EventConsumer(
        broker_connection(settings),
        name,
        topology_for(settings),
        InboxProcessor(engine, inbox, dispatcher),
        prefetch=settings.prefetch,
        batch_size=settings.consumer_batch,
    )
    return ConsumerService(name=name, engine=engine, consumer=consumer, dispatcher=dispatcher)
