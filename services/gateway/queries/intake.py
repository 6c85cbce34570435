"""What the intake kept: the ids of received events (``gateway_received_events``) and the
refused items (``gateway_quarantine``), written by ``handlers/intake.py``."""

from __future__ import annotations

from sqlalchemy import RowMapping, select

from services.gateway.adapters.tables import quarantine, received_events
from services.gateway.queries import Source, mapping, reading


def quarantine_page(source: Source, school_id: str | None, before_id: int | None,
                    limit: int) -> list[RowMapping]:
    """Up to ``limit`` + 1 quarantined items, newest first, older than ``before_id``; the
    extra row tells the caller there is a next page."""
    query = select(quarantine).order_by(quarantine.c.id.desc()).limit(limit + 1)
    if school_id is not None:
        query = query.where(quarantine.c.school_id == school_id)
    if before_id is not None:
        query = query.where(quarantine.c.id < before_id)
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


def quarantined(source: Source, item_id: int) -> RowMapping | None:
    with reading(source) as connection:
        return mapping(connection.execute(select(quarantine).where(
            quarantine.c.id == item_id)).first())


def received_event(source: Source, event_id: str) -> RowMapping | None:
    with reading(source) as connection:
        return mapping(connection.execute(select(received_events).where(
            received_events.c.event_id == event_id)).first())
