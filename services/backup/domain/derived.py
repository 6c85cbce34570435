"""Current-state tables derived from the journal record (pure).

The archive carries them as CSV so that a backup can be read without Kozomol:
one row per lesson, mark, absence, roster place… as they stand after every
correction and deletion. A later ``occurred_at`` wins (Kundoluk corrects an
entry by sending it again with the same id); a deletion removes the entity
unless a later record brings it back. Rows are sorted, so the same events
always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

Row = tuple[Any, ...]


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _lesson(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("lesson_id"), d.get("class_id"), d.get("subgroup"),
             d.get("subject_id"), d.get("date"), d.get("period"), d.get("teacher_id"),
             d.get("scheduled_teacher_id"), bool(d.get("is_substitution")), d.get("topic"),
             d.get("homework"))]


def _mark(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("mark_id"), d.get("class_id"), d.get("subject_id"),
             d.get("student_id"), d.get("teacher_id"), d.get("lesson_id"), d.get("date"),
             d.get("value"), d.get("work_type"), d.get("kind", "current"), d.get("term_id"))]


def _attendance(school: str, d: dict[str, Any]) -> list[Row]:
    rows: list[Row] = [(school, d.get("lesson_id"), a.get("student_id"), "absent",
                        a.get("reason")) for a in d.get("absent") or ()]
    rows += [(school, d.get("lesson_id"), s, "late", None) for s in d.get("late") or ()]
    return rows


def _roster(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("class_id"), d.get("academic_year"), d.get("grade"),
             d.get("homeroom_teacher_id"), s.get("student_id"), s.get("full_name"),
             _json(s.get("subgroups") or {}), d.get("class_name"))
            for s in d.get("students") or ()]


def _student(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("student_id"), d.get("full_name"), d.get("birth_date"),
             _json(d.get("parents") or []))]


def _teacher(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("teacher_id"), d.get("full_name"))]


def _plan(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("class_id"), d.get("subject_id"), d.get("subject_name"),
             d.get("subgroup"), d.get("teacher_id"), d.get("term_id"), p.get("number"),
             p.get("planned_date"), p.get("topic")) for p in d.get("lessons") or ()]


def _calendar(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("academic_year"), d.get("timezone"), _json(d.get("weekend")),
             _json(d.get("terms")), _json(d.get("holidays")), d.get("school_name"))]


def _exemption(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("student_id"), d.get("subject_id"), d.get("from"), d.get("to"),
             d.get("reason"))]


def _registry(school: str, d: dict[str, Any]) -> list[Row]:
    return [(school, d.get("number"), d.get("class_id"), d.get("academic_year"),
             d.get("pages"), d.get("sha256"), d.get("registered_at"), d.get("responsible"),
             d.get("pdf_key"))]


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]
    recorded: str                      # the event type that records an entity
    key: Callable[[dict[str, Any]], Any]
    rows: Callable[[str, dict[str, Any]], list[Row]]
    deleted: str | None = None         # the event type that deletes it
    #: how many leading columns (school first) every row of one entity shares and
    #: that hold its key: rows of two entities never interleave in sorted order,
    #: so a table sorts by entity on these columns, then each entity's few rows
    #: (``adapters/table_fold.py``, which does not hold a table in memory)
    identity: int = 2


TABLES: tuple[TableSpec, ...] = (
    TableSpec("calendars", ("school_id", "academic_year", "timezone", "weekend", "terms",
                            "holidays", "school_name"),
              "school.calendar", lambda d: d.get("academic_year"), _calendar),
    TableSpec("teachers", ("school_id", "teacher_id", "full_name"),
              "teacher.profile", lambda d: d.get("teacher_id"), _teacher),
    TableSpec("students", ("school_id", "student_id", "full_name", "birth_date", "parents"),
              "student.profile", lambda d: d.get("student_id"), _student),
    TableSpec("rosters", ("school_id", "class_id", "academic_year", "grade",
                          "homeroom_teacher_id", "student_id", "full_name", "subgroups",
                          "class_name"),
              "class.roster", lambda d: (d.get("class_id"), d.get("academic_year")), _roster,
              identity=3),
    TableSpec("plans", ("school_id", "class_id", "subject_id", "subject_name", "subgroup",
                        "teacher_id", "term_id", "number", "planned_date", "topic"),
              "subject.plan", lambda d: (d.get("class_id"), d.get("subject_id"),
                                         d.get("subgroup"), d.get("term_id")), _plan, identity=7),
    TableSpec("lessons", ("school_id", "lesson_id", "class_id", "subgroup", "subject_id",
                          "date", "period", "teacher_id", "scheduled_teacher_id",
                          "is_substitution", "topic", "homework"),
              "lesson.recorded", lambda d: d.get("lesson_id"), _lesson, "lesson.deleted"),
    TableSpec("attendance", ("school_id", "lesson_id", "student_id", "status", "reason"),
              "attendance.recorded", lambda d: d.get("lesson_id"), _attendance),
    TableSpec("marks", ("school_id", "mark_id", "class_id", "subject_id", "student_id",
                        "teacher_id", "lesson_id", "date", "value", "work_type", "kind",
                        "term_id"),
              "mark.recorded", lambda d: d.get("mark_id"), _mark, "mark.deleted"),
    TableSpec("exemptions", ("school_id", "student_id", "subject_id", "from", "to", "reason"),
              "exemption.recorded",
              lambda d: (d.get("student_id"), d.get("subject_id"), d.get("from")), _exemption,
              identity=4),
    TableSpec("archive_registry", ("school_id", "number", "class_id", "academic_year", "pages",
                                   "sha256", "registered_at", "responsible", "pdf_key"),
              "archive.registered", lambda d: d.get("number"), _registry),
)

_BY_TYPE: dict[str, tuple[TableSpec, bool]] = {}
for _spec in TABLES:
    _BY_TYPE[_spec.recorded] = (_spec, False)
    if _spec.deleted:
        _BY_TYPE[_spec.deleted] = (_spec, True)


@dataclass
class TableFolder:
    """Feed it journal bodies in any order; it keeps the latest state per entity.

    Only the winning body is kept (as bytes), not parsed rows, so a school
    year of events folds in modest memory.
    """

    #: table → (school, entity key) → (occurred_at, seq, deleted, body)
    state: dict[str, dict[tuple[str, Any], tuple[str, int, bool, bytes]]] = field(
        default_factory=lambda: {spec.name: {} for spec in TABLES})

    def feed(self, seq: int, event_type: str, body: bytes) -> None:
        found = _BY_TYPE.get(event_type)
        if found is None:
            return
        spec, deletion = found
        envelope = orjson.loads(body)
        data = envelope.get("data") or {}
        key = (str(envelope.get("school_id")), _hashable(spec.key(data)))
        stamp = (str(envelope.get("occurred_at")), seq, deletion, body)
        table = self.state[spec.name]
        current = table.get(key)
        if current is None or (stamp[0], stamp[1]) > (current[0], current[1]):
            table[key] = stamp

    def rows(self, spec: TableSpec) -> list[Row]:
        rows: list[Row] = []
        for (school, _), (_, _, deleted, body) in self.state[spec.name].items():
            if not deleted:
                rows.extend(spec.rows(school, orjson.loads(body).get("data") or {}))
        return sorted(rows, key=_sort_key)

    def counts(self) -> dict[str, int]:
        return {spec.name: len(self.rows(spec)) for spec in TABLES}


def _hashable(value: Any) -> Any:
    return _json(value) if isinstance(value, dict | list) else value


def _sort_key(row: Row) -> tuple[str, ...]:
    return tuple("" if v is None else f"{v:020d}" if isinstance(v, int) and not isinstance(
        v, bool) else str(v) for v in row)


sort_key = _sort_key


def spec_for(event_type: str) -> tuple[TableSpec, bool] | None:
    """The table an event type records into, and whether it deletes; None if none."""
    return _BY_TYPE.get(event_type)


def entity_key(spec: TableSpec, data: dict[str, Any]) -> Any:
    """The entity's key as :class:`TableFolder` compares it."""
    return _hashable(spec.key(data))


def entity_rows(spec: TableSpec, school: str, data: dict[str, Any]) -> list[Row]:
    """One entity's rows, sorted as the table sorts them."""
    rows = spec.rows(school, data)
    return sorted(rows, key=_sort_key) if len(rows) > 1 else rows


def table_rows(folder: TableFolder) -> Iterator[tuple[TableSpec, list[Row]]]:
    for spec in TABLES:
        yield spec, folder.rows(spec)
