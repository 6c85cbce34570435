"""A consumer loop: prefetch, batches in one transaction, acks after commit, dead letters.

Built on kombu's ``ConsumerMixin``, which reconnects and consumes again after
a broker restart (kombu#814). Deliveries are buffered up to ``batch_size`` (or
``max_wait`` seconds) and handed to the processor as one batch, which commits
once; only then are they acked. If a batch fails, each of its messages is
retried alone, so one poison message cannot hold back the others. A message
that keeps failing is dead-lettered after ``delivery_limit`` deliveries: by the
broker itself on quorum queues (which also counts deliveries to consumers that
died), by this loop on classic queues and the in-memory broker.

Only failures of the message itself count. When the batch fails because the
database or the file store is away (``outages.is_outage``), its deliveries are
held unacked and the batch is tried again with a growing pause, until it
commits: nothing is requeued, so no delivery limit is spent, and the prefetch
window keeps the broker from sending more meanwhile. The loop keeps draining
the connection while it waits, so heartbeats go on (pika#1104's trap avoided).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kombu import Connection, Consumer, Producer
from kombu.message import Message
from kombu.mixins import ConsumerMixin

from shared import metrics
from shared.events.envelope import Event
from shared.messaging import crash_points
from shared.messaging.outages import is_outage
from shared.messaging.topology import Topology

log = logging.getLogger(__name__)

#: Processes a batch of events in one transaction; raises if it cannot.
BatchProcessor = Callable[[Sequence[Event]], int]

#: Pauses between attempts while a dependency is away: first, then doubled up to the last.
OUTAGE_FIRST_PAUSE = 0.25
OUTAGE_LONGEST_PAUSE = 5.0


class EventConsumer(ConsumerMixin):
    def __init__(
        self,
        connection: Connection,
        service: str,
        topology: Topology,
        process: BatchProcessor,
        *,
        prefetch: int = 200,
        batch_size: int = 100,
        max_wait: float = 0.05,
    ) -> None:
        self.connection = connection
        self.service = service
        self.requested_topology = topology
        self.topology = topology
        self.process = process
        self.prefetch = prefetch
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.delivery_limit = topology.delivery_limit
        self.ready = threading.Event()
        self._pending: list[Message] = []
        self._first_pending_at = 0.0
        self._failures: dict[str, int] = {}
        self._channel: Any = None
        #: set while a dependency is away: when to try the held deliveries again
        self._retry_at: float | None = None
        self._pause = OUTAGE_FIRST_PAUSE
        self.outage_started_at: float | None = None

    # kombu's ConsumerMixin hooks -------------------------------------------
    @property
    def idle(self) -> bool:
        """Nothing buffered: every delivery received so far is settled."""
        return not self._pending

    @property
    def broker_counts_deliveries(self) -> bool:
        return self.topology.queue_type == "quorum"

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Consumer]:
        # Resolve "auto" against the broker we are connected to now.
        # (py-amqp channels expose what the broker announced; the in-memory one has nothing)
        properties = getattr(channel.connection, "server_properties", None)
        self.topology = self.requested_topology.resolved(dict(properties) if properties else None)
        consumer = consumer_cls(
            queues=[self.topology.queue(self.service)], callbacks=[self._on_message],
            accept=["json"], prefetch_count=self.prefetch, no_ack=False,
        )
        # prefetch per consumer, never global: quorum queues refuse global QoS.
        consumer.qos(prefetch_count=self.prefetch, apply_global=False)
        return [consumer]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **_: Any) -> None:
        # Deliveries buffered on a previous channel died with it; the broker re-sends them.
        self._pending.clear()
        self._retry_at = None
        self._channel = channel
        self.topology.declare(connection)
        self.ready.set()
        log.info("consuming", extra={"service": self.service,
                                     "queue_type": self.topology.queue_type})

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        self.ready.clear()
        log.warning("broker connection lost, retrying",
                    extra={"service": self.service, "retry_in_s": interval,
                           "error": exc.__class__.__name__})

    def on_decode_error(self, message: Message, exc: Exception) -> None:
        # kombu's default acks (drops) what it cannot decode; we never drop a message.
        log.error("message body cannot be decoded",
                  extra={"service": self.service, "message_id": _message_id(message),
                         "error": exc.__class__.__name__})
        self._failed(message)

    @property
    def holding(self) -> bool:
        """A dependency is away: deliveries are held, unacked, until it is back."""
        return self._retry_at is not None

    def on_iteration(self) -> None:
        if self._retry_at is not None:
            if self._pending and time.monotonic() >= self._retry_at:
                self._flush()
            return
        if self._pending and (
            len(self._pending) >= self.batch_size
            or time.monotonic() - self._first_pending_at >= self.max_wait
        ):
            self._flush()

    def run_until_stopped(self) -> None:
        """Consume until :attr:`should_stop` is set; polls often so batches leave quickly.

        Like ``ConsumerMixin.run``, but logs what broke: a queue declared with
        other arguments (PRECONDITION_FAILED) would otherwise retry in silence.
        """
        errors = self.connection.connection_errors + self.connection.channel_errors
        while not self.should_stop:
            try:
                if self.restart_limit.can_consume(1):
                    for _ in self.consume(limit=None, safety_interval=self.max_wait):
                        pass
                else:
                    time.sleep(self.restart_limit.expected_time(1))
            except errors as exc:
                self.ready.clear()
                log.warning("lost the broker connection or channel; consuming again",
                            extra={"service": self.service, "error": repr(exc)[:500]})

    # our own loop --------------------------------------------------------------
    def _on_message(self, _body: Any, message: Message) -> None:
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(message)
        if len(self._pending) >= self.batch_size and self._retry_at is None:
            self._flush()

    def _flush(self) -> None:
        # Held deliveries can pile up to the prefetch window: one batch at a time.
        batch = self._pending[:self.batch_size]
        self._pending = self._pending[self.batch_size:]
        if self._pending:
            self._first_pending_at = 0.0  # the rest is due at once
        events: list[Event] = []
        undecodable: list[Message] = []
        decoded: list[Message] = []
        for message in batch:
            # The exchange tells the door it came through; consumers admit by it.
            door = self.topology.door_of((message.delivery_info or {}).get("exchange"))
            try:
                events.append(Event.from_json(message.body, door=door))
                decoded.append(message)
            except ValueError:
                undecodable.append(message)
        for message in undecodable:
            log.error("message is not an event envelope",
                      extra={"service": self.service, "message_id": _message_id(message)})
            self._failed(message)
        if decoded:
            self._process_batch(decoded, events)

    def _process_batch(self, messages: list[Message], events: list[Event]) -> None:
        try:
            self.process(events)
        except Exception as exc:
            if is_outage(exc):
                self._hold(messages, exc)
                return
            log.exception("batch failed; retrying its messages one by one",
                          extra={"service": self.service, "size": len(messages)})
            for index, (message, event) in enumerate(zip(messages, events, strict=True)):
                if not self._process_alone(message, event):
                    self._hold(messages[index:], None)
                    return
        else:
            crash_points.reached(crash_points.AFTER_COMMIT_BEFORE_ACK)
            for message, event in zip(messages, events, strict=True):
                self._done(message, event)
        self._recovered()

    def _process_alone(self, message: Message, event: Event) -> bool:
        """Process one event; False when a dependency is away (the event is not settled)."""
        try:
            self.process([event])
        except Exception as exc:
            if is_outage(exc):
                return False
            log.exception("event failed", extra={"service": self.service, "event_id": event.id,
                                                 "event_type": event.type})
            self._failed(message)
        else:
            crash_points.reached(crash_points.AFTER_COMMIT_BEFORE_ACK)
            self._done(message, event)
        return True

    def _hold(self, messages: list[Message], exc: BaseException | None) -> None:
        """Keep ``messages`` unacked, first in line, and try them again after a pause."""
        self._pending = [*messages, *self._pending]
        now = time.monotonic()
        if self.outage_started_at is None:
            self.outage_started_at = now
            log.warning("a dependency is away; holding deliveries until it is back",
                        extra={"service": self.service, "held": len(self._pending),
                               "error": repr(exc)[:300] if exc else None})
            metrics.CONSUMER_OUTAGES.labels(self.service).inc()
        else:
            self._pause = min(self._pause * 2, OUTAGE_LONGEST_PAUSE)
        self._retry_at = now + self._pause

    def _recovered(self) -> None:
        if self.outage_started_at is not None:
            log.warning("dependency back; consuming again",
                        extra={"service": self.service,
                               "outage_s": round(time.monotonic() - self.outage_started_at, 1)})
        self._retry_at = self.outage_started_at = None
        self._pause = OUTAGE_FIRST_PAUSE

    def _done(self, message: Message, event: Event) -> None:
        message.ack()
        self._failures.pop(event.id, None)
        metrics.EVENTS_CONSUMED.labels(self.service, event.type).inc()

    def _failed(self, message: Message) -> None:
        metrics.EVENT_FAILURES.labels(self.service).inc()
        if self.broker_counts_deliveries:
            message.requeue()  # the quorum queue dead-letters it past x-delivery-limit
            return
        key = _message_id(message)
        attempts = self._failures.get(key, 0) + 1
        if attempts < self.delivery_limit:
            self._failures[key] = attempts
            message.requeue()
            return
        self._failures.pop(key, None)
        self._dead_letter(message)

    def _dead_letter(self, message: Message) -> None:
        log.error("dead-lettering a message after repeated failures",
                  extra={"service": self.service, "message_id": _message_id(message)})
        metrics.EVENTS_DEAD_LETTERED.labels(self.service).inc()
        if self.connection.transport.driver_type == "memory":
            # The in-memory broker knows no dead-letter exchanges: move it ourselves.
            Producer(self._channel).publish(
                message.body, exchange=self.topology.dead_letter_exchange(self.service),
                routing_key="#",
                content_type=message.content_type, content_encoding=message.content_encoding,
                headers=message.headers, message_id=_message_id(message),
            )
            message.ack()
        else:
            message.reject(requeue=False)  # the queue's x-dead-letter-exchange takes it


def _message_id(message: Message) -> str:
    return str(message.properties.get("message_id") or message.delivery_tag)
