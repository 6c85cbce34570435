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
import threading
from collections.abc import Callable, Sequence
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
from shared.db.engine import is_postgresql
from shared.messaging import crash_points
from shared.messaging.publisher import OutgoingMessage, Publisher, PublishError
from shared.pacing import Pace

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


class OutboxRelay:
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
        self._pace = Pace(interval, quick=0.02)
        self._thread: threading.Thread | None = None

    def hurry(self, seconds: float = 2.0) -> None:
        """Someone waits for what was just added: look every 20 ms for ``seconds``."""
        self._pace.hurry(seconds)

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
        while not self._pace.stopped.is_set() and (sent := self.drain_once()):
            total += sent
        return total

    def depth(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(
                select(func.count()).select_from(self._outbox)).scalar_one())

    def run(self) -> None:
        while not self._pace.stopped.is_set():
            try:
                self.drain()
            except PublishError as exc:
                log.info("broker still unavailable; outbox kept", extra={"error": str(exc)})
            except DBAPIError:
                log.exception("outbox relay cannot reach the database")
            # Refreshed on every pass: the depth matters most while the broker is away.
            with contextlib.suppress(DBAPIError):
                metrics.OUTBOX_DEPTH.set(self.depth())
            self._pace.wait()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._pace.stop()
        if self._thread is not None:
            self._thread.join(10)
