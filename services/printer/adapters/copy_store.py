"""The printer's copy of the journal in its table ``printer_records``.

``ingest`` folds a batch of events into the records (in the consumer's
transaction); ``load_class`` reads one class's part back: the records with its
``class_id`` plus the calendar, teachers, profiles, attendance sheets and
exemptions that belong to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, func, or_, select

from services.printer.adapters.tables import records
from services.printer.domain.copy import Record, Records, class_copy, fold
from services.printer.domain.journal import ClassCopy, NotPrintable, class_name
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event

CHUNK = 500


def ingest(connection: Connection, events: Sequence[Event]) -> int:
    """Fold the events the printer copies; returns how many records the batch touched.

    The batch is folded in memory first (newest state and newest deletion per
    entity), then written with two upserts whose ``WHERE`` keeps the stored
    state when it is newer: the same order independence as the fold, no read
    before the write, and printers consuming side by side cannot collide on a
    key (rows are written in one sorted order).
    """
    batch: dict[str, Records] = defaultdict(dict)
    for event in events:
        try:
            fold(batch[event.school_id], event.type, event.id, event.occurred_at, event.data)
        except (KeyError, TypeError):
            continue  # not a well-formed entity event: nothing to copy
    states, deletions = [], []
    for school_id in sorted(batch):
        for (kind, key), record in sorted(batch[school_id].items()):
            ref = {"school_id": school_id, "kind": kind, "entity_key": key}
            if record.stamp is not None:
                states.append({**ref, "class_id": record.class_id, "stamp": record.stamp,
                               "data": record.data})
            if record.deleted_stamp is not None:
                deletions.append({**ref, "deleted_stamp": record.deleted_stamp})
    primary = ["school_id", "kind", "entity_key"]
    if states:
        statement = conflict_insert(connection, records)
        new = statement.excluded
        connection.execute(statement.on_conflict_do_update(
            index_elements=primary,
            set_={"stamp": new.stamp, "data": new.data,
                  "class_id": func.coalesce(new.class_id, records.c.class_id)},
            where=or_(records.c.stamp.is_(None), new.stamp > records.c.stamp)), states)
    if deletions:
        statement = conflict_insert(connection, records)
        new = statement.excluded
        connection.execute(statement.on_conflict_do_update(
            index_elements=primary, set_={"deleted_stamp": new.deleted_stamp},
            where=or_(records.c.deleted_stamp.is_(None),
                      new.deleted_stamp > records.c.deleted_stamp)), deletions)
    return sum(len(found) for found in batch.values())


def _record(row: Any) -> Record:
    return Record(row.kind, row.entity_key, row.class_id, row.stamp, row.data,
                  row.deleted_stamp)


def _select(connection: Connection, school_id: str, kind: str,
            keys: Sequence[str] | None = None) -> Iterable[Record]:
    base = select(records).where(records.c.school_id == school_id, records.c.kind == kind)
    if keys is None:
        yield from (_record(row) for row in connection.execute(base))
        return
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start:start + CHUNK])
        yield from (_record(row) for row in connection.execute(
            base.where(records.c.entity_key.in_(chunk))))


def load_class(connection: Connection, school_id: str, class_id: str) -> ClassCopy:
    """Everything the printer knows about one class."""
    own = [_record(row) for row in connection.execute(
        select(records).where(records.c.school_id == school_id,
                              records.c.class_id == class_id))]
    if not any(r.kind == "class" and r.live for r in own):
        raise NotPrintable(f"класс {class_id} неизвестен принтеру (нет class.roster)")
    roster = next(r.data for r in own if r.kind == "class" and r.data)
    student_ids = sorted(s["student_id"] for s in roster.get("students", []))
    lesson_ids = sorted(r.key for r in own if r.kind == "lesson")
    more = [
        *_select(connection, school_id, "calendar"),
        *_select(connection, school_id, "teacher"),
        *_select(connection, school_id, "exemption"),
        *_select(connection, school_id, "student", student_ids),
        *_select(connection, school_id, "attendance", lesson_ids),
    ]
    return class_copy(school_id, class_id, [*own, *more])


def class_of_student(connection: Connection, school_id: str, student_id: str) -> str:
    """The class whose roster lists the student (the newest roster if several)."""
    found = None
    for record in _select(connection, school_id, "class"):
        if record.live and record.data and any(
                s.get("student_id") == student_id for s in record.data.get("students", [])) \
                and (found is None or (record.stamp or "") > (found.stamp or "")):
            found = record
    if found is None:
        raise NotPrintable(f"ученик {student_id} не найден ни в одном списке класса")
    return found.key


def school_calendar(connection: Connection, school_id: str) -> dict[str, Any] | None:
    """The school's calendar (its names and time zone), None when none came yet."""
    found = [r for r in _select(connection, school_id, "calendar") if r.live]
    return found[0].data if found else None


def school_classes(connection: Connection, school_id: str) -> list[dict[str, Any]]:
    """The rosters of every class of the school (live), for printing them all."""
    return [r.data for r in _select(connection, school_id, "class") if r.live and r.data]


def class_names(connection: Connection, school_id: str) -> dict[str, str]:
    """class_id -> the class as the school writes it («4 «Б»»), for reports."""
    return {str(roster["class_id"]): class_name(str(roster["class_id"]), roster.get("grade"),
                                                roster.get("class_name"))
            for roster in school_classes(connection, school_id) if roster.get("class_id")}
