"""The inbox: processed event ids, stored in the same transaction as the effects.

A redelivered event (the broker re-sends whatever was unacked when a consumer
died) finds its id already here and has no second effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Column, Connection, DateTime, Engine, MetaData, String, Table

from shared.db.inserts import insert_new
from shared.events.envelope import Event

#: A service's reaction to the new events of a batch, inside the batch's transaction.
Dispatch = Callable[[Connection, list[Event]], None]


def inbox_table(metadata: MetaData, service: str) -> Table:
    return Table(
        f"{service}_inbox",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


class InboxProcessor:
    """Runs a batch of events through ``dispatch`` exactly once each, in one transaction."""

    def __init__(self, engine: Engine, inbox: Table, dispatch: Dispatch) -> None:
        self._engine = engine
        self._inbox = inbox
        self._dispatch = dispatch

    def __call__(self, events: Sequence[Event]) -> int:
        """Process ``events``; returns how many were new. Raises if any handler fails."""
        unique: dict[str, Event] = {}
        for event in events:
            unique.setdefault(event.id, event)
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            new_ids = insert_new(
                connection,
                self._inbox,
                [{"event_id": event_id, "processed_at": now} for event_id in unique],
                self._inbox.c.event_id,
            )
            new_events = [event for event_id, event in unique.items() if event_id in new_ids]
            if new_events:
                self._dispatch(connection, new_events)
        return len(new_ids)
