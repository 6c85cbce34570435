"""Publishing with publisher confirms, a window of outstanding confirms, and ``mandatory``.

Waiting for each confirm caps a Python publisher near 1,000 messages/s on this
machine kind (``docs/decisions.md``); a batch of webhook events is therefore
published as a window: every message is sent, then the confirms are collected
until all arrived or the timeout passed. Anything nacked, returned as
unroutable, or unconfirmed in time makes the whole call fail, and the caller
keeps the events (the gateway's outbox). Re-sending a partly confirmed batch
creates duplicates, which the consumers' inboxes absorb.

One publisher owns one connection and must stay on one thread (py-amqp#462).

A broker under a resource alarm (memory, disk) stops reading from publishing
connections and tells them so (``connection.blocked``) right after their first
publish. Waiting for confirms then would stall every request for the alarm's
whole length (celery#10386, issue 19): the publisher fails at once instead,
keeps the blocked connection to hear ``connection.unblocked``, and fails every
later call at once until it does, so the gateway answers from its outbox.
A connection that broke is dropped without the closing handshake, which a
blocked or dead peer would never answer.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import amqp
from kombu import Connection, Exchange, Producer

from shared.messaging.topology import Topology, server_properties


class PublishError(RuntimeError):
    """The broker did not take responsibility for every message."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    headers: dict[str, Any] = field(default_factory=dict)


class Publisher(Protocol):
    def publish(self, messages: Sequence[OutgoingMessage]) -> None: ...

    def check(self) -> None: ...

    def close(self) -> None: ...


def make_publisher(
    broker_url: str, topology: Topology, *, connect_timeout: float, confirm_timeout: float
) -> Publisher:
    if broker_url.startswith("memory://"):
        return MemoryPublisher(broker_url, topology)
    return ConfirmingPublisher(
        broker_url, topology, connect_timeout=connect_timeout, confirm_timeout=confirm_timeout
    )


class ConfirmingPublisher:
    """AMQP 0-9-1 publisher with a window of outstanding confirms (py-amqp under kombu)."""

    def __init__(
        self, broker_url: str, topology: Topology, *, connect_timeout: float,
        confirm_timeout: float,
    ) -> None:
        self._url = broker_url
        self._topology = topology
        self._connect_timeout = connect_timeout
        self._confirm_timeout = confirm_timeout
        self._connection: Connection | None = None
        self._channel: Any = None
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._failed: list[str] = []
        self._blocked = False

    @property
    def blocked(self) -> bool:
        """The broker said it blocks this connection (a resource alarm) and has not unblocked."""
        return self._blocked

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        try:
            channel = self._ready_channel()
            self._refuse_while_blocked()
            self._unconfirmed.clear()
            self._failed.clear()
            for message in messages:
                channel.basic_publish(
                    amqp.Message(
                        message.body,
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=2,
                        message_id=message.message_id,
                        application_headers=message.headers,
                    ),
                    exchange=message.exchange,
                    routing_key=message.routing_key,
                    mandatory=True,
                )
                self._unconfirmed.add(self._next_tag)
                self._next_tag += 1
            self._await_confirms()
        except PublishError:
            if not self._blocked:
                self._drop()
            raise
        except (TimeoutError, OSError, amqp.exceptions.AMQPError) as exc:
            self._drop()
            raise PublishError(f"broker unavailable: {exc.__class__.__name__}") from exc
        if self._failed:
            raise PublishError(f"{len(self._failed)} message(s) nacked or unroutable")

    def check(self) -> None:
        """Raise :class:`PublishError` unless a connection to the broker is open."""
        try:
            self._ready_channel()
            assert self._connection is not None
            # A blocked connection is still a reachable broker: the intake answers from
            # the outbox meanwhile, so readiness does not depend on the alarm.
            self._connection.connection.send_heartbeat()
        except (OSError, amqp.exceptions.AMQPError) as exc:
            self._drop()
            raise PublishError(f"broker unavailable: {exc.__class__.__name__}") from exc

    def close(self) -> None:
        if self._blocked:
            self._drop()  # a blocked broker would not answer the closing handshake
            return
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            # Closing a connection the broker already dropped may fail in any way.
            with contextlib.suppress(Exception):
                connection.release()

    def _drop(self) -> None:
        """Forget the connection at once: close its socket, no closing handshake."""
        connection, self._connection, self._channel = self._connection, None, None
        self._blocked = False
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.collect()

    def _refuse_while_blocked(self) -> None:
        if not self._blocked:
            return
        assert self._connection is not None
        # Read what the broker sent meanwhile: connection.unblocked, late confirms.
        with contextlib.suppress(TimeoutError):
            self._connection.connection.drain_events(timeout=0.001)
        if self._blocked:
            raise PublishError("broker blocks publishing (resource alarm)")

    def _on_blocked(self, _reason: str | None = None) -> None:
        self._blocked = True

    def _on_unblocked(self) -> None:
        self._blocked = False

    def _ready_channel(self) -> Any:
        if self._channel is not None:
            return self._channel
        connection = Connection(
            self._url,
            connect_timeout=self._connect_timeout,
            heartbeat=30,
            transport_options={"read_timeout": self._confirm_timeout,
                               "write_timeout": self._confirm_timeout,
                               "on_blocked": self._on_blocked,
                               "on_unblocked": self._on_unblocked},
        )
        connection.connect()
        try:
            self._topology.resolved(server_properties(connection)).declare(connection)
            channel = connection.channel()
            channel.confirm_select()
        except BaseException:
            with contextlib.suppress(Exception):
                connection.collect()
            raise
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self._connection, self._channel, self._next_tag = connection, channel, 1
        return channel

    def _await_confirms(self) -> None:
        assert self._connection is not None
        deadline = time.monotonic() + self._confirm_timeout
        while self._unconfirmed:
            if self._blocked:
                raise PublishError(f"broker blocks publishing (resource alarm); "
                                   f"{len(self._unconfirmed)} message(s) unconfirmed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(self._unconfirmed)} message(s) unconfirmed in time")
            try:
                self._connection.connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue

    def _settle(self, delivery_tag: int, multiple: bool) -> set[int]:
        if multiple:
            settled = {tag for tag in self._unconfirmed if tag <= delivery_tag}
        else:
            settled = {delivery_tag} & self._unconfirmed
        self._unconfirmed -= settled
        return settled

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._failed.extend(str(tag) for tag in self._settle(delivery_tag, multiple))

    def _on_return(self, _exc: Exception, _exchange: str, _key: str, message: Any) -> None:
        # A returned (unroutable) message is still acked afterwards: remember it.
        self._failed.append(str(message.properties.get("message_id")))


class MemoryPublisher:
    """The embedded default: kombu's in-process broker, synchronous, no confirms needed."""

    def __init__(self, broker_url: str, topology: Topology) -> None:
        self._url = broker_url
        self._topology = topology
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        producer = self._ready_producer()
        for message in messages:
            producer.publish(
                message.body,
                exchange=Exchange(message.exchange, type="topic"),
                routing_key=message.routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=message.message_id,
                headers=message.headers,
            )

    def check(self) -> None:
        self._ready_producer()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.release()
        self._connection = self._producer = None

    def _ready_producer(self) -> Producer:
        if self._producer is None:
            self._connection = Connection(self._url)
            self._topology.resolved(None).declare(self._connection)
            self._producer = Producer(self._connection.default_channel)
        return self._producer


class ThreadPublishers:
    """One publisher (one broker connection) per thread, created on first use."""

    def __init__(self, factory: Callable[[], Publisher]) -> None:
        self._factory = factory
        self._local = threading.local()
        self._all: list[Publisher] = []
        self._lock = threading.Lock()

    def __call__(self) -> Publisher:
        publisher = getattr(self._local, "publisher", None)
        if publisher is None:
            publisher = self._local.publisher = self.new()
        return publisher

    def new(self) -> Publisher:
        """A publisher of its own (closed with the others), for an owner that is not a thread
        but is held by one thread at a time (the intake's writer turns)."""
        publisher = self._factory()
        with self._lock:
            self._all.append(publisher)
        return publisher

    def close(self) -> None:
        with self._lock:
            for publisher in self._all:
                publisher.close()
            self._all.clear()

    # As a service companion: nothing to start; closed when the service stops.
    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.close()
