"""The checker's facts in its tables: folded in batch by batch, loaded per school."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, select, text

from services.checker.adapters.tables import catching_up, dirty_schools, facts
from services.checker.domain.facts import (
    EntityRef,
    SchoolFacts,
    dump_entity,
    entities_of,
    load_entity,
)
from shared.db.engine import is_postgresql
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event

_CHUNK = 400
#: The first key of the checker's per-school advisory locks (the second: the school's hash).
_LOCK_SPACE = 20
#: The contract's school id of an event for every school (a nationwide outage).
EVERY_SCHOOL = "*"


def ingest(connection: Connection, events: list[Event], *,
           settle_lag: timedelta | None = None) -> None:
    """Fold new events into the stored facts; the schools concerned become dirty.

    With ``settle_lag``, a school whose events arrive that long after they were
    entered is recorded as catching up (see :func:`catching_up_since`).
    """
    by_school: dict[str, list[tuple[Event, EntityRef]]] = defaultdict(list)
    for event in events:
        for ref in entities_of(event.type, event.id, event.data):
            by_school[event.school_id].append((event, ref))
    # Several checkers fold batches side by side: each school's read-modify-write of its
    # entities is one at a time (in one order, so two batches cannot wait for each other).
    for school_id in sorted({event.school_id for event in events}):
        lock_school(connection, school_id, wait=True)
    now = datetime.now(UTC)
    if settle_lag is not None:
        behind = {event.school_id for event in events
                  if event.school_id != EVERY_SCHOOL and now - event.occurred_at > settle_lag}
        for school_id in sorted(behind):
            statement = conflict_insert(connection, catching_up).values(
                school_id=school_id, last_at=now)
            connection.execute(statement.on_conflict_do_update(
                index_elements=["school_id"], set_={"last_at": statement.excluded.last_at}))
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
        for event in {event.id: event for event, _ in items}.values():
            school.apply(event.id, event.type, event.occurred_at, event.data)
        rows = [{"school_id": school_id, "kind": kind, "entity_key": key,
                 "state": dump_entity(school, (kind, key))} for kind, key in refs]
        statement = conflict_insert(connection, facts)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["school_id", "kind", "entity_key"],
            set_={"state": statement.excluded.state}), rows)
        if school_id == EVERY_SCHOOL:  # kept once; every school is judged again with it
            for known in schools(connection, dirty_only=False):
                mark_dirty(connection, known, now)
        else:
            mark_dirty(connection, school_id, now)


def lock_school(connection: Connection, school_id: str, *, wait: bool) -> bool:
    """Hold the school until the transaction ends, against the other checkers' folding
    and sweeping (a PostgreSQL advisory lock; SQLite has one writer anyway).

    Without ``wait``, returns False at once when another holds it.
    """
    if not is_postgresql(connection):
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    got = connection.execute(
        text(f"SELECT {function}(:space, hashtext(:school))"),
        {"space": _LOCK_SPACE, "school": school_id}).scalar()
    return wait or bool(got)


def mark_dirty(connection: Connection, school_id: str, now: datetime) -> None:
    """The school is to be evaluated at the next sweep."""
    statement = conflict_insert(connection, dirty_schools).values(school_id=school_id, since=now)
    connection.execute(statement.on_conflict_do_nothing(index_elements=["school_id"]))


def load_school(connection: Connection, school_id: str) -> SchoolFacts:
    """A school's facts, with the outages that concern every school."""
    school = SchoolFacts(school_id)
    # yield_per on the statement, not the connection: it must not outlive this query.
    result = connection.execute(
        select(facts.c.kind, facts.c.entity_key, facts.c.state)
        .where(facts.c.school_id == school_id).execution_options(yield_per=2000))
    for row in result:
        load_entity(school, (row.kind, row.entity_key), row.state)
    for outage in connection.execute(select(facts.c.entity_key, facts.c.state).where(
            facts.c.school_id == EVERY_SCHOOL, facts.c.kind == "outage")):
        load_entity(school, ("outage", outage.entity_key), outage.state)
    return school


def load_kinds(connection: Connection, school_id: str, kinds: tuple[str, ...]) -> SchoolFacts:
    """Only some kinds of a school's facts (a report that needs rosters and visits does
    not load a year of lessons)."""
    school = SchoolFacts(school_id)
    for row in connection.execute(select(facts.c.kind, facts.c.entity_key, facts.c.state).where(
            facts.c.school_id == school_id, facts.c.kind.in_(kinds))):
        load_entity(school, (row.kind, row.entity_key), row.state)
    return school
def is_dirty(connection: Connection, school_id: str) -> bool:
    return connection.execute(select(dirty_schools.c.school_id).where(
        dirty_schools.c.school_id == school_id)).first() is not None


def schools(connection: Connection, *, dirty_only: bool) -> list[str]:
    """The schools to judge (never the every-school pseudo id of nationwide outages)."""
    if dirty_only:
        query = select(dirty_schools.c.school_id)
    else:
        query = select(facts.c.school_id).distinct()
    return sorted(school for school in connection.execute(query).scalars()
                  if school != EVERY_SCHOOL)


def catching_up_since(connection: Connection, moment: datetime) -> set[str]:
    """The schools that received an event from their past after ``moment``."""
    return set(connection.execute(select(catching_up.c.school_id).where(
        catching_up.c.last_at > moment)).scalars())


def clean(connection: Connection, school_id: str, evaluated_from: datetime) -> None:
    """The school was evaluated with every fact stored before ``evaluated_from``."""
    connection.execute(delete(dirty_schools).where(dirty_schools.c.school_id == school_id,
                                                   dirty_schools.c.since <= evaluated_from))
