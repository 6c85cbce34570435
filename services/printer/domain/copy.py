"""The printer's own copy of the journal: the latest state of each entity (pure).

Entity events carry the whole current state, so the printer keeps one record
per entity: the data of the newest event (``occurred_at``, ties broken by the
event id) and the newest deletion. A deletion counts when it is newer than the
newest data. Folding the same events in any order, with any duplicates, gives
the same records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.printer.domain.journal import ClassCopy

DELETIONS = {"lesson.deleted": "lesson", "mark.deleted": "mark"}


def stamp_of(occurred_at: datetime, event_id: str) -> str:
    """A text that sorts like (occurred_at, event id): UTC, fixed width."""
    moment = occurred_at.astimezone(UTC) if occurred_at.tzinfo else occurred_at
    return f"{moment:%Y-%m-%dT%H:%M:%S.%f}|{event_id}"


@dataclass(frozen=True)
class EntityRef:
    kind: str
    key: str
    #: the class the entity belongs to, when the event names it (loads a class fast)
    class_id: str | None


def entity_of(event_type: str, data: dict[str, Any]) -> EntityRef | None:
    """Which record an event changes; None for events the printer does not copy."""
    match event_type:
        case "school.calendar":
            return EntityRef("calendar", "", None)
        case "teacher.profile":
            return EntityRef("teacher", str(data["teacher_id"]), None)
        case "class.roster":
            return EntityRef("class", str(data["class_id"]), str(data["class_id"]))
        case "student.profile":
            return EntityRef("student", str(data["student_id"]), None)
        case "subject.plan":
            key = "|".join((data["class_id"], data["subject_id"], data.get("subgroup") or "",
                            data["term_id"]))
            return EntityRef("plan", key, str(data["class_id"]))
        case "lesson.recorded":
            return EntityRef("lesson", str(data["lesson_id"]), str(data["class_id"]))
        case "lesson.deleted":
            return EntityRef("lesson", str(data["lesson_id"]), None)
        case "attendance.recorded":
            return EntityRef("attendance", str(data["lesson_id"]), None)
        case "mark.recorded":
            return EntityRef("mark", str(data["mark_id"]), str(data["class_id"]))
        case "mark.deleted":
            return EntityRef("mark", str(data["mark_id"]), None)
        case "exemption.recorded":
            key = "|".join((data["student_id"], data["subject_id"], data["from"], data["to"]))
            return EntityRef("exemption", key, None)
        case "finding.opened" | "finding.closed" | "finding.updated":
            return EntityRef("finding", str(data["id"]), data.get("class_id"))
    return None


@dataclass
class Record:
    """The latest state of one entity."""

    kind: str
    key: str
    class_id: str | None = None
    stamp: str | None = None
    data: dict[str, Any] | None = None
    deleted_stamp: str | None = None

    def offer(self, event_type: str, stamp: str, data: dict[str, Any],
              class_id: str | None) -> bool:
        """Fold one event in; True if the record changed."""
        if event_type in DELETIONS:
            if self.deleted_stamp is None or stamp > self.deleted_stamp:
                self.deleted_stamp = stamp
                return True
            return False
        if self.stamp is None or stamp > self.stamp:
            self.stamp, self.data = stamp, data
            self.class_id = class_id or self.class_id
            return True
        return False

    @property
    def live(self) -> bool:
        return self.data is not None and (self.deleted_stamp is None
                                          or self.stamp is None
                                          or self.deleted_stamp < self.stamp)


Records = dict[tuple[str, str], Record]


def fold(records: Records, event_type: str, event_id: str, occurred_at: datetime,
         data: dict[str, Any]) -> Record | None:
    """Fold one event into ``records``; the changed record, or None if nothing changed."""
    ref = entity_of(event_type, data)
    if ref is None:
        return None
    record = records.setdefault((ref.kind, ref.key), Record(ref.kind, ref.key))
    if record.offer(event_type, stamp_of(occurred_at, event_id), data, ref.class_id):
        return record
    return None


def class_copy(school_id: str, class_id: str, records: Iterable[Record]) -> ClassCopy:
    """One class's part of the copy, from records that include at least all of it."""
    live = [r for r in records if r.live]
    by_kind: dict[str, list[Record]] = {}
    for record in live:
        by_kind.setdefault(record.kind, []).append(record)

    def of_class(kind: str) -> list[dict[str, Any]]:
        return [r.data for r in by_kind.get(kind, []) if r.class_id == class_id and r.data]

    roster = next((r.data for r in by_kind.get("class", []) if r.key == class_id), None)
    calendar = next((r.data for r in by_kind.get("calendar", [])), None)
    lessons = of_class("lesson")
    lesson_ids = {lesson["lesson_id"] for lesson in lessons}
    student_ids = {s["student_id"] for s in (roster or {}).get("students", [])}
    return ClassCopy(
        school_id=school_id, class_id=class_id, roster=roster, calendar=calendar,
        teachers={r.key: str((r.data or {}).get("full_name") or r.key)
                  for r in by_kind.get("teacher", [])},
        students={r.key: r.data for r in by_kind.get("student", [])
                  if r.key in student_ids and r.data},
        plans=of_class("plan"), lessons=lessons,
        attendance={r.key: r.data for r in by_kind.get("attendance", [])
                    if r.key in lesson_ids and r.data},
        marks=of_class("mark"),
        exemptions=[r.data for r in by_kind.get("exemption", [])
                    if r.data and r.data.get("student_id") in student_ids],
        findings=of_class("finding"))
