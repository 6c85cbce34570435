"""Appending to and reading the journal record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from services.backup.adapters.tables import journal, journal_head
from services.backup.domain.journal import canonical, chain_hash
from shared.events.envelope import Event


def append(connection: Connection, events: list[Event]) -> None:
    """Append ``events`` to the chain, under the head row's lock."""
    head = connection.execute(
        select(journal_head.c.seq, journal_head.c.hash).where(journal_head.c.id == 1)
        .with_for_update()
    ).one()  # the migration creates the genesis row
    seq, previous = head.seq, head.hash
    now = datetime.now(UTC)
    rows = []
    for event in events:
        body = canonical(event.to_envelope())
        entry_hash = chain_hash(previous, body)
        seq += 1
        rows.append({
            "seq": seq, "event_id": event.id, "school_id": event.school_id,
            "type": event.type, "occurred_at": event.occurred_at, "recorded_at": now,
            "body": body, "prev_hash": previous, "hash": entry_hash,
        })
        previous = entry_hash
    connection.execute(insert(journal), rows)
    connection.execute(
        update(journal_head).where(journal_head.c.id == 1).values(seq=seq, hash=previous)
    )


def entries(connection: Connection) -> Iterator[tuple[int, bytes, str, str]]:
    result = connection.execute(
        select(journal.c.seq, journal.c.body, journal.c.prev_hash, journal.c.hash)
        .order_by(journal.c.seq).execution_options(yield_per=1000)
    )
    for row in result:
        yield row.seq, bytes(row.body), row.prev_hash, row.hash
