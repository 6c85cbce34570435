"""The transactional outbox: events written in the same transaction as the data,
and the relay that publishes them.

The gateway keeps events there while the broker is away; the checker writes
its ``finding.*`` events there in the transaction that changes the findings.
Rows are published with confirms and deleted in the same transaction; a crash
between the confirm and the commit re-sends them, and the consumers' inboxes
absorb the duplicate. On PostgreSQL several processes relay side by side
(``FOR UPDATE SKIP LOCKED``); SQLite serialises them with its write lock.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError

from shared import metrics
from shared.background import BackgroundLoop
from shared.db.engine import is_postgresql
from shared.events.envelope import new_envelope
from shared.messaging import crash_points
from shared.messaging.publisher import OutgoingMessage, Publisher, PublishError

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData, service: str) -> Table:
    return Table(
        f"{service}_outbox",
        metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("routing_key", String(100), nullable=False),
        Column("school_id", String(64), nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


def add_to_outbox(connection: Connection, outbox: Table, events: Sequence[dict[str, Any]],
                  now: datetime, *, routing_key: str | None = None) -> None:
    """Keep envelopes for the relay, in the caller's transaction.

    Events are routed by their type; a command outbox gives the routing key
    (``<service>.<command>``).
    """
    if events:
        connection.execute(insert(outbox), [
            {"event_id": event["id"], "routing_key": routing_key or event["type"],
             "school_id": event["school_id"], "body": orjson.dumps(event), "created_at": now}
            for event in events])


@dataclass(frozen=True)
class Announcer:
    """How one service sends what it sends: a row in its outbox, in the caller's transaction.

    ``announce(connection, "finding.opened", school_id, data, now)`` keeps an event
    for the relay of ``events`` (routed by its type onto the internal exchange);
    ``announce(..., to="printer")`` keeps a command for the relay of ``commands``
    (routing key ``<to>.<command>`` on the commands exchange). The envelope is made
    by ``new_envelope`` here, with the service's id prefix (``cmd`` for commands)
    and the service as its source; returned so the caller may name its id.
    """

    service: str
    prefix: str
    events: Table | None = None
    commands: Table | None = None

    def __call__(self, connection: Connection, message_type: str, school_id: str,
                 data: dict[str, Any], now: datetime, *, to: str | None = None
                 ) -> dict[str, Any]:
        if to is None:
            assert self.events is not None, f"{self.service} sends no events"
            envelope = new_envelope(self.prefix, message_type, school_id, data, now,
                                    source=self.service)
            add_to_outbox(connection, self.events, [envelope], now)
        else:
            assert self.commands is not None, f"{self.service} sends no commands"
            envelope = new_envelope("cmd", message_type, school_id, data, now,
                                    source=self.service)
            add_to_outbox(connection, self.commands, [envelope], now,
                          routing_key=f"{to}.{message_type}")
        return envelope

    def many(self, connection: Connection, events: Iterable[tuple[str, str, dict[str, Any]]],
             now: datetime) -> list[dict[str, Any]]:
        """Several events (type, school, data) in one insert; their envelopes."""
        assert self.events is not None, f"{self.service} sends no events"
        envelopes = [new_envelope(self.prefix, event_type, school_id, data, now,
                                  source=self.service)
                     for event_type, school_id, data in events]
        add_to_outbox(connection, self.events, envelopes, now)
        return envelopes


class OutboxRelay:
    """Publishes an outbox's rows with confirms and deletes them, in a background loop."""

    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        publisher: Callable[[], Publisher],
        exchange: str,
        *,
        interval: float = 1.0,
        batch_size: int = 500,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publisher = publisher
        self._exchange = exchange
        self._batch_size = batch_size
        self._loop = BackgroundLoop(f"relay-{outbox.name}", self._pass, interval=interval,
                                    quick=0.02, again_when_busy=False,
                                    on_failure=self._failed, join_timeout=10)

    def hurry(self, seconds: float = 2.0) -> None:
        """Someone waits for what was just added: look every 20 ms for ``seconds``."""
        self._loop.hurry(seconds)

    def drain_once(self) -> int:
        """Relay one batch; returns how many events were sent."""
        outbox = self._outbox
        query = select(outbox).order_by(outbox.c.seq).limit(self._batch_size)
        if is_postgresql(self._engine):
            query = query.with_for_update(skip_locked=True)
        with self._engine.begin() as connection:
            rows = connection.execute(query).all()
            if not rows:
                return 0
            crash_points.reached(crash_points.AFTER_COMMIT_BEFORE_PUBLISH)
            self._publisher().publish([
                OutgoingMessage(self._exchange, row.routing_key, bytes(row.body), row.event_id,
                                {"school_id": row.school_id})
                for row in rows
            ])
            crash_points.reached(crash_points.AFTER_PUBLISH_BEFORE_MARKING_SENT)
            connection.execute(delete(outbox).where(outbox.c.seq.in_([row.seq for row in rows])))
        metrics.OUTBOX_RELAYED.inc(len(rows))
        log.info("relayed events from the outbox", extra={"events": len(rows)})
        return len(rows)

    def drain(self) -> int:
        total = 0
        while not self._loop.stopped.is_set() and (sent := self.drain_once()):
            total += sent
        return total

    def depth(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(
                select(func.count()).select_from(self._outbox)).scalar_one())

    def _pass(self) -> int:
        try:
            return self.drain()
        finally:
            # Refreshed on every pass: the depth matters most while the broker is away.
            with contextlib.suppress(DBAPIError):
                metrics.OUTBOX_DEPTH.set(self.depth())

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, PublishError):
            log.info("broker still unavailable; outbox kept", extra={"error": str(exc)})
        elif isinstance(exc, DBAPIError):
            log.error("outbox relay cannot reach the database", exc_info=exc)
        else:
            log.error("outbox relay pass failed", exc_info=exc)

    def run(self) -> None:
        self._loop.run()

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()
