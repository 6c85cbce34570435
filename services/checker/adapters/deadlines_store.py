"""The deadline index: per school, when its findings can next change by time alone, and
the findings judged ahead for that moment."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from services.checker.adapters.tables import deadlines, dirty_schools
from services.checker.domain.rules import Finding
from shared.db.inserts import conflict_insert


def keep(connection: Connection, school_id: str, due_at: datetime | None) -> None:
    """Record the school's next moment (None: nothing left to fall due); whatever was
    judged ahead is void."""
    if due_at is None:
        connection.execute(delete(deadlines).where(deadlines.c.school_id == school_id))
        return
    # In UTC: SQLite compares the stored text, which must not mix time zones.
    statement = conflict_insert(connection, deadlines).values(
        school_id=school_id, due_at=due_at.astimezone(UTC), prepared=None, prepared_next=None)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["school_id"], set_={"due_at": statement.excluded.due_at,
                                            "prepared": None, "prepared_next": None}))


def due(connection: Connection, now: datetime) -> list[str]:
    """The schools whose moment has come by ``now`` (an index range scan)."""
    return list(connection.execute(select(deadlines.c.school_id).where(
        deadlines.c.due_at <= now).order_by(deadlines.c.due_at)).scalars())


def to_prepare(connection: Connection, until: datetime, limit: int = 500) -> list[str]:
    """Quiet schools whose moment comes by ``until`` and is not judged ahead yet,
    soonest first."""
    return list(connection.execute(
        select(deadlines.c.school_id)
        .where(deadlines.c.due_at <= until, deadlines.c.prepared.is_(None),
               deadlines.c.school_id.not_in(select(dirty_schools.c.school_id)))
        .order_by(deadlines.c.due_at).limit(limit)).scalars())


def due_at(connection: Connection, school_id: str) -> datetime | None:
    found = connection.execute(select(deadlines.c.due_at).where(
        deadlines.c.school_id == school_id)).scalar()
    return None if found is None else _aware(found)


def prepare(connection: Connection, school_id: str, moment: datetime,
            findings: list[Finding], valid_until: datetime | None) -> None:
    """Store the findings that hold from ``moment`` (the school's moment, or one a
    breath after it, which it then becomes) until ``valid_until``."""
    connection.execute(update(deadlines).where(deadlines.c.school_id == school_id).values(
        due_at=moment.astimezone(UTC), prepared=[_encoded(finding) for finding in findings],
        prepared_next=None if valid_until is None else valid_until.astimezone(UTC)))


def prepared(connection: Connection, school_id: str, now: datetime
             ) -> tuple[list[Finding], datetime | None] | None:
    """The findings judged ahead, when they hold at ``now``: the moment has come and the
    next one has not (the caller knows the facts did not change since)."""
    row = connection.execute(select(deadlines).where(
        deadlines.c.school_id == school_id)).first()
    if row is None or row.prepared is None or _aware(row.due_at) > now:
        return None
    valid_until = None if row.prepared_next is None else _aware(row.prepared_next)
    if valid_until is not None and now >= valid_until:
        return None
    return [_decoded(item) for item in row.prepared], valid_until


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encoded(finding: Finding) -> dict[str, Any]:
    item = asdict(finding)
    item["date"] = finding.date.isoformat()
    return item


def _decoded(item: dict[str, Any]) -> Finding:
    return Finding(**{**item, "date": date.fromisoformat(item["date"])})
