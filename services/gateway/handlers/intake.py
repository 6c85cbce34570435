"""Taking a delivery in: an event is answered 202 only once it is durable.

Durable means confirmed by the broker, or, while the broker is unreachable,
committed to the gateway's outbox in the same transaction that records its id.
The ids are recorded first (one INSERT … ON CONFLICT for the whole group),
which both tells duplicates apart and makes a concurrent delivery of the same
event wait for this one to finish.

Deliveries that arrive while others are being written are written together
(``group_commit.py``): one transaction records all their ids, their new
events go to the broker as one window of confirms, and each delivery is
answered when that write is done. A group of several that fails is written
again one delivery at a time, so one delivery the database refuses cannot
take the others with it.

Without the database, events go straight to the broker and their ids to the
received-ids spool (``adapters/received_spool.py``); the spool is moved into
the table before the next delivery is checked, so a re-send after the outage
is answered as a duplicate.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import DBAPIError

from services.gateway.adapters.received_ids import record_new
from services.gateway.adapters.received_spool import ReceivedSpool
from services.gateway.adapters.tables import outbox, quarantine, received_events
from services.gateway.domain.intake import Rejection
from services.gateway.handlers.group_commit import GroupCommit
from shared import metrics
from shared.events.schemas import is_known_type
from shared.messaging.outbox import add_to_outbox
from shared.messaging.publisher import OutgoingMessage, Publisher, PublishError, ThreadPublishers
from shared.messaging.topology import Topology

log = logging.getLogger(__name__)

#: Groups written at a time per process: while one waits for its commit or its
#: confirms, the next is being recorded (measured: bench/gateway_intake.py).
WRITERS = 2
#: Events in one group at most (a delivery larger than that is written alone).
GROUP_EVENTS = 1000


class IntakeUnavailable(RuntimeError):
    """Neither the broker nor the gateway's database can take the events now (503)."""


@dataclass
class IntakeOutcome:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    stored_in: str | None = None  # broker | outbox | None when nothing was new


class _GroupFailed(Exception):
    """A group's write failed: on the database (``database_error``) when the group was one
    delivery, for any reason when it was several (each is then written alone)."""

    def __init__(self, error: Exception, *, database_error: DBAPIError | None = None) -> None:
        super().__init__(str(error))
        self.database_error = database_error


@dataclass
class _Delivery:
    """One request: its events (first occurrence of each id), ids it repeated, refused items."""

    first: dict[str, dict[str, Any]]
    repeated: list[str]
    rejected: Sequence[Rejection]
    webhook_id: str
    outcome: IntakeOutcome = field(default_factory=IntakeOutcome)

    def reset(self) -> IntakeOutcome:
        self.outcome = IntakeOutcome(duplicates=list(self.repeated))
        return self.outcome


class Intake:
    def __init__(
        self, engine: Engine, publisher: ThreadPublishers, topology: Topology,
        spool: ReceivedSpool | None = None,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._exchange = topology.events.name
        self._spool = spool
        # One broker connection per writer turn; a turn is held by one thread at a time.
        self._writer_publishers: list[Publisher | None] = [None] * WRITERS
        self._groups: GroupCommit[_Delivery, None] = GroupCommit(
            self._write_group, size=lambda delivery: max(1, len(delivery.first)),
            max_size=GROUP_EVENTS, writers=WRITERS)

    def message(self, event: dict[str, Any]) -> OutgoingMessage:
        return OutgoingMessage(
            exchange=self._exchange,
            routing_key=event["type"],
            body=orjson.dumps(event),
            message_id=event["id"],
            headers={"school_id": event["school_id"]},
        )

    def take(
        self, events: Sequence[dict[str, Any]], rejected: Sequence[Rejection], webhook_id: str
    ) -> IntakeOutcome:
        first: dict[str, dict[str, Any]] = {}
        repeated: list[str] = []
        for event in events:
            if event["id"] in first:
                repeated.append(event["id"])  # repeated within the delivery
            else:
                first[event["id"]] = event
        delivery = _Delivery(first, repeated, rejected, webhook_id)
        try:
            self._groups.submit(delivery)
        except _GroupFailed as failed:
            if failed.database_error is not None:
                self._take_without_database(delivery, failed.database_error)
            else:
                self._take_alone(delivery)  # on this request's thread, as without grouping
        self._count(first, delivery.outcome)
        return delivery.outcome

    def _write_group(self, turn: int, deliveries: Sequence[_Delivery]) -> list[None]:
        publisher = self._writer_publishers[turn]
        if publisher is None:
            publisher = self._writer_publishers[turn] = self._publisher.new()
        try:
            self._record_and_publish(deliveries, publisher)
        except DBAPIError as exc:
            if len(deliveries) == 1:
                raise _GroupFailed(exc, database_error=exc) from exc
            log.warning("a group of deliveries failed on the database; taking each alone",
                        extra={"deliveries": len(deliveries), "error": str(exc)})
            raise _GroupFailed(exc) from exc
        except Exception as exc:
            if len(deliveries) == 1:
                raise
            # Whatever went wrong is one delivery's to answer for, not its neighbours'.
            log.exception("a group of deliveries failed; taking each alone",
                          extra={"deliveries": len(deliveries)})
            raise _GroupFailed(exc) from exc
        return [None] * len(deliveries)

    def _take_alone(self, delivery: _Delivery) -> None:
        try:
            self._record_and_publish([delivery], self._publisher())
        except DBAPIError as exc:
            self._take_without_database(delivery, exc)

    def _record_and_publish(self, deliveries: Sequence[_Delivery], publisher: Publisher) -> None:
        if self._spool is not None and self._spool.pending:
            self._spool.reconcile(self._engine)  # the record complete before checking
        now = datetime.now(UTC)
        outcomes = [delivery.reset() for delivery in deliveries]
        with self._engine.begin() as connection:
            for delivery in deliveries:
                if delivery.rejected:
                    keep_in_quarantine(connection, delivery.rejected, delivery.webhook_id, now)
            owner: dict[str, IntakeOutcome] = {}  # the first delivery of the group with an id
            candidates: list[dict[str, Any]] = []
            for delivery, outcome in zip(deliveries, outcomes, strict=True):
                for event_id, event in delivery.first.items():
                    if event_id not in owner:
                        owner[event_id] = outcome
                        candidates.append(event)
            if not candidates:
                return
            new_ids = record_new(connection, candidates, now)
            new_events: list[dict[str, Any]] = []
            for delivery, outcome in zip(deliveries, outcomes, strict=True):
                for event_id, event in delivery.first.items():
                    if event_id in new_ids and owner[event_id] is outcome:
                        outcome.accepted.append(event_id)
                        new_events.append(event)
                    else:
                        outcome.duplicates.append(event_id)
            if not new_events:
                return
            try:
                self._publish(new_events, publisher)
                stored_in = "broker"
            except PublishError as exc:
                log.warning("broker unavailable; keeping events in the outbox",
                            extra={"events": len(new_events), "error": str(exc)})
                self._to_outbox(connection, new_events, now)
                stored_in = "outbox"
            for outcome in outcomes:
                if outcome.accepted:
                    outcome.stored_in = stored_in

    def _take_without_database(self, delivery: _Delivery, error: DBAPIError) -> None:
        # Without our database, the broker alone can still make events durable;
        # the consumers' inboxes absorb any duplicate this lets through.
        if delivery.rejected:
            raise IntakeUnavailable("database unavailable; rejected items cannot be kept") \
                from error
        log.warning("database unavailable; publishing without duplicate check",
                    extra={"events": len(delivery.first)})
        outcome = delivery.reset()
        if not delivery.first:
            return
        try:
            self._publish(list(delivery.first.values()), self._publisher())
        except PublishError as publish_exc:
            raise IntakeUnavailable("broker and database unavailable") from publish_exc
        outcome.accepted = list(delivery.first)
        outcome.stored_in = "broker"
        self._spool_ids(list(delivery.first.values()))

    def _spool_ids(self, events: list[dict[str, Any]]) -> None:
        if self._spool is None:
            return
        try:
            self._spool.append(events, datetime.now(UTC))
        except OSError:
            # The events are durable on the broker; only a later duplicate answer is at risk.
            log.exception("accepted ids could not be spooled", extra={"events": len(events)})

    def _publish(self, events: list[dict[str, Any]], publisher: Publisher) -> None:
        started = time.perf_counter()
        publisher.publish([self.message(event) for event in events])
        metrics.PUBLISH_SECONDS.observe(time.perf_counter() - started)

    def _to_outbox(self, connection: Connection, events: list[dict[str, Any]],
                   now: datetime) -> None:
        add_to_outbox(connection, outbox, events, now)
        connection.execute(
            received_events.update()
            .where(received_events.c.event_id.in_([event["id"] for event in events]))
            .values(stored_in="outbox")
        )

    @staticmethod
    def _count(first: dict[str, dict[str, Any]], outcome: IntakeOutcome) -> None:
        counts: Counter[tuple[str, str]] = Counter()
        for outcome_name, ids in (("accepted", outcome.accepted),
                                  ("duplicate", outcome.duplicates)):
            for event_id in ids:
                event = first.get(event_id)
                known = "true" if event and is_known_type(event["type"]) else "false"
                counts[outcome_name, known] += 1
        for (outcome_name, known), count in counts.items():
            metrics.WEBHOOK_EVENTS.labels(outcome_name, known).inc(count)
        if outcome.stored_in:
            metrics.WEBHOOK_DELIVERY.labels(outcome.stored_in).inc(len(outcome.accepted))


def keep_in_quarantine(
    connection: Connection, rejected: Sequence[Rejection], webhook_id: str, now: datetime
) -> None:
    rows = []
    for rejection in rejected:
        item = rejection.item if isinstance(rejection.item, dict) else {}
        school_id, event_type = item.get("school_id"), item.get("type")
        rows.append({
            "received_at": now,
            "school_id": school_id if isinstance(school_id, str) else None,
            "event_id": rejection.id,
            "event_type": event_type[:100] if isinstance(event_type, str) else None,
            "webhook_id": webhook_id,
            "batch_index": rejection.index,
            "errors": rejection.errors,
            "body": orjson.dumps(rejection.item),
        })
    connection.execute(insert(quarantine), rows)
    metrics.WEBHOOK_EVENTS.labels("rejected", "unknown").inc(len(rows))
