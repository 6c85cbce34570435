"""The checker's facts in its tables: folded in batch by batch, loaded per school."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select

from services.checker.adapters.tables import dirty_schools, facts
from services.checker.domain.facts import (
    EntityRef,
    SchoolFacts,
    dump_entity,
    entity_of,
    load_entity,
)
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event

_CHUNK = 400


def ingest(connection: Connection, events: list[Event]) -> None:
    """Fold new events into the stored facts; the schools concerned become dirty."""
    by_school: dict[str, list[tuple[Event, EntityRef]]] = defaultdict(list)
    for event in events:
        ref = entity_of(event.type, event.id, event.data)
        if ref is not None:
            by_school[event.school_id].append((event, ref))
    now = datetime.now(UTC)
    for school_id, items in by_school.items():
        refs = sorted({ref for _, ref in items})
        school = SchoolFacts(school_id)
        keys_by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, key in refs:
            keys_by_kind[kind].append(key)
        # One lookup per kind with all three key columns equal or IN: a plain index
        # scan. (A row-value IN over (kind, key) made PostgreSQL scan the whole school.)
        for kind, keys in keys_by_kind.items():
            for start in range(0, len(keys), _CHUNK):
                for row in connection.execute(
                        select(facts.c.entity_key, facts.c.state).where(
                            facts.c.school_id == school_id, facts.c.kind == kind,
                            facts.c.entity_key.in_(keys[start:start + _CHUNK]))):
                    load_entity(school, (kind, row.entity_key), row.state)
        for event, _ in items:
            school.apply(event.id, event.type, event.occurred_at, event.data)
        rows = [{"school_id": school_id, "kind": kind, "entity_key": key,
                 "state": dump_entity(school, (kind, key))} for kind, key in refs]
        statement = conflict_insert(connection, facts)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["school_id", "kind", "entity_key"],
            set_={"state": statement.excluded.state}), rows)
        mark_dirty(connection, school_id, now)


def mark_dirty(connection: Connection, school_id: str, now: datetime) -> None:
    """The school is to be evaluated at the next sweep."""
    statement = conflict_insert(connection, dirty_schools).values(school_id=school_id, since=now)
    connection.execute(statement.on_conflict_do_nothing(index_elements=["school_id"]))


def load_school(connection: Connection, school_id: str) -> SchoolFacts:
    school = SchoolFacts(school_id)
    # yield_per on the statement, not the connection: it must not outlive this query.
    result = connection.execute(
        select(facts.c.kind, facts.c.entity_key, facts.c.state)
        .where(facts.c.school_id == school_id).execution_options(yield_per=2000))
    for row in result:
        load_entity(school, (row.kind, row.entity_key), row.state)
    return school


def schools(connection: Connection, *, dirty_only: bool) -> list[str]:
    if dirty_only:
        query = select(dirty_schools.c.school_id)
    else:
        query = select(facts.c.school_id).distinct()
    return sorted(connection.execute(query).scalars())


def clean(connection: Connection, school_id: str, evaluated_from: datetime) -> None:
    """The school was evaluated with every fact stored before ``evaluated_from``."""
    connection.execute(delete(dirty_schools).where(dirty_schools.c.school_id == school_id,
                                                   dirty_schools.c.since <= evaluated_from))
