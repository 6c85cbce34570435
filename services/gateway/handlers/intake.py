"""Taking a delivery in: an event is answered 202 only once it is durable.

Durable means confirmed by the broker, or, while the broker is unreachable,
committed to the gateway's outbox in the same transaction that records its id.
The ids are recorded first (one INSERT … ON CONFLICT for the whole batch),
which both tells duplicates apart and makes a concurrent delivery of the same
event wait for this one to finish.

Without the database, events go straight to the broker and their ids to the
received-ids spool (``adapters/received_spool.py``); the spool is moved into
the table before the next delivery is checked, so a re-send after the outage
is answered as a duplicate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import DBAPIError

from services.gateway.adapters.received_spool import ReceivedSpool
from services.gateway.adapters.tables import outbox, quarantine, received_events
from services.gateway.domain.intake import Rejection
from shared import metrics
from shared.db.inserts import insert_new
from shared.events.schemas import is_known_type
from shared.messaging.outbox import add_to_outbox
from shared.messaging.publisher import OutgoingMessage, Publisher, PublishError
from shared.messaging.topology import Topology

log = logging.getLogger(__name__)


class IntakeUnavailable(RuntimeError):
    """Neither the broker nor the gateway's database can take the events now (503)."""


@dataclass
class IntakeOutcome:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    stored_in: str | None = None  # broker | outbox | None when nothing was new


class Intake:
    def __init__(
        self, engine: Engine, publisher: Callable[[], Publisher], topology: Topology,
        spool: ReceivedSpool | None = None,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._exchange = topology.events.name
        self._spool = spool

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
        outcome = IntakeOutcome()
        for event in events:
            if event["id"] in first:
                outcome.duplicates.append(event["id"])  # repeated within the delivery
            else:
                first[event["id"]] = event
        try:
            if self._spool is not None and self._spool.pending:
                self._spool.reconcile(self._engine)  # the record complete before checking
            self._take_recorded(first, rejected, webhook_id, outcome)
        except DBAPIError as exc:
            # Without our database, the broker alone can still make events durable;
            # the consumers' inboxes absorb any duplicate this lets through.
            if rejected:
                raise IntakeUnavailable("database unavailable; rejected items cannot be kept") \
                    from exc
            log.warning("database unavailable; publishing without duplicate check",
                        extra={"events": len(first)})
            try:
                self._publish(list(first.values()))
            except PublishError as publish_exc:
                raise IntakeUnavailable("broker and database unavailable") from publish_exc
            outcome.accepted = list(first)
            outcome.stored_in = "broker"
            self._spool_ids(list(first.values()))
        self._count(first, outcome)
        return outcome

    def _take_recorded(
        self,
        first: dict[str, dict[str, Any]],
        rejected: Sequence[Rejection],
        webhook_id: str,
        outcome: IntakeOutcome,
    ) -> None:
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            if rejected:
                keep_in_quarantine(connection, rejected, webhook_id, now)
            if not first:
                return
            new_ids = insert_new(
                connection,
                received_events,
                [{"event_id": event_id, "school_id": event["school_id"], "type": event["type"],
                  "received_at": now, "stored_in": "broker"} for event_id, event in first.items()],
                received_events.c.event_id,
            )
            new_events = [event for event_id, event in first.items() if event_id in new_ids]
            outcome.duplicates.extend(event_id for event_id in first if event_id not in new_ids)
            outcome.accepted = [event["id"] for event in new_events]
            if not new_events:
                return
            try:
                self._publish(new_events)
                outcome.stored_in = "broker"
            except PublishError as exc:
                log.warning("broker unavailable; keeping events in the outbox",
                            extra={"events": len(new_events), "error": str(exc)})
                self._to_outbox(connection, new_events, now)
                outcome.stored_in = "outbox"

    def _spool_ids(self, events: list[dict[str, Any]]) -> None:
        if self._spool is None:
            return
        try:
            self._spool.append(events, datetime.now(UTC))
        except OSError:
            # The events are durable on the broker; only a later duplicate answer is at risk.
            log.exception("accepted ids could not be spooled", extra={"events": len(events)})

    def _publish(self, events: list[dict[str, Any]]) -> None:
        started = time.perf_counter()
        self._publisher().publish([self.message(event) for event in events])
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
        for outcome_name, ids in (("accepted", outcome.accepted),
                                  ("duplicate", outcome.duplicates)):
            for event_id in ids:
                event = first.get(event_id)
                known = "true" if event and is_known_type(event["type"]) else "false"
                metrics.WEBHOOK_EVENTS.labels(outcome_name, known).inc()
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
