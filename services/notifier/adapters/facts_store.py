"""The notifier's fold of the contract (``notifier_records``) and the planning snapshot.

Each entity keeps its latest state: a state replaces the stored one only when
its stamp (UTC occurred_at | event id) is later, and a deletion is remembered
by its stamp, so the result does not depend on the order events arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, or_, select, tuple_

from services.notifier.adapters.tables import findings, records, reports
from services.notifier.domain.model import (
    FINAL_KINDS,
    Calendar,
    Finding,
    Lesson,
    Mark,
    Plan,
    Recipient,
    Report,
    SchoolClass,
    SchoolFacts,
)
from shared.db.inserts import conflict_insert


def stamp_of(occurred_at: datetime, event_id: str) -> str:
    return f"{occurred_at.astimezone(UTC).isoformat()}|{event_id}"


@dataclass
class State:
    """One entity's state from one event (``data`` None: a deletion)."""

    kind: str
    key: str
    stamp: str
    data: dict[str, Any] | None
    day: date | None = None
    tag: str | None = None


def keep(connection: Connection, school_id: str, states: Iterable[State]) -> None:
    """Merge states into the stored ones: the latest stamp wins, deletions by their stamp."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for state in states:
        row = merged.setdefault((state.kind, state.key), {
            "school_id": school_id, "kind": state.kind, "entity_key": state.key,
            "stamp": None, "deleted_stamp": None, "day": None, "tag": None, "data": None})
        _merge(row, state)
    if not merged:
        return
    stored = {(r.kind, r.entity_key): r._asdict() for r in connection.execute(
        select(records).where(records.c.school_id == school_id,
                              tuple_(records.c.kind, records.c.entity_key).in_(list(merged))))}
    rows = []
    for key, row in merged.items():
        old = stored.get(key)
        if old is not None:
            for field in ("stamp", "deleted_stamp"):
                if old[field] and (not row[field] or old[field] > row[field]):
                    row[field] = old[field]
                    if field == "stamp":
                        row.update(day=old["day"], tag=old["tag"], data=old["data"])
        rows.append(row)
    statement = conflict_insert(connection, records)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[records.c.school_id, records.c.kind, records.c.entity_key],
        set_={name: statement.excluded[name]
              for name in ("stamp", "deleted_stamp", "day", "tag", "data")}), rows)


def _merge(row: dict[str, Any], state: State) -> None:
    if state.data is None:
        if not row["deleted_stamp"] or state.stamp > row["deleted_stamp"]:
            row["deleted_stamp"] = state.stamp
    elif not row["stamp"] or state.stamp > row["stamp"]:
        row.update(stamp=state.stamp, data=state.data, day=state.day, tag=state.tag)


def stored(connection: Connection, school_id: str, kind: str, key: str) -> dict[str, Any] | None:
    row = connection.execute(select(records.c.data).where(
        records.c.school_id == school_id, records.c.kind == kind,
        records.c.entity_key == key)).first()
    return None if row is None else row.data


def schools(connection: Connection) -> list[str]:
    return list(connection.execute(select(records.c.school_id).where(
        records.c.kind == "calendar").order_by(records.c.school_id)).scalars())


# Loading a school for planning ---------------------------------------------------------
def _live(row: Any) -> bool:
    return row.data is not None and (not row.deleted_stamp or row.stamp > row.deleted_stamp)


def _rows(connection: Connection, school_id: str, kind: str, *where: Any) -> list[Any]:
    return [r for r in connection.execute(select(records).where(
        records.c.school_id == school_id, records.c.kind == kind, *where)) if _live(r)]


def load_school(connection: Connection, school_id: str, *, days: Iterable[date],
                marks_since: str, final_terms: Iterable[str] = ()) -> SchoolFacts:
    """The people, calendar and plans of a school, the lessons of ``days`` with their
    attendance, the marks of those days or entered after ``marks_since`` (a stamp), the
    final marks of ``final_terms`` and the open findings."""
    calendar_data = stored(connection, school_id, "calendar", "school") or {}
    facts = SchoolFacts(school_id=school_id, calendar=Calendar.from_data(calendar_data),
                        parameters=dict(stored(connection, school_id, "parameters",
                                               "school") or {}))
    for row in _rows(connection, school_id, "teacher"):
        facts.teachers[row.entity_key] = teacher_recipient(row.data)
    for row in _rows(connection, school_id, "student"):
        facts.students[row.entity_key] = str(row.data.get("full_name") or row.entity_key)
        facts.parents[row.entity_key] = parent_recipients(row.data)
    for row in _rows(connection, school_id, "class"):
        data = row.data
        facts.classes[row.entity_key] = SchoolClass(
            row.entity_key, int(data.get("grade") or 0), data.get("homeroom_teacher_id"),
            {s["student_id"]: dict(s.get("subgroups") or {}) for s in data.get("students", [])},
            data.get("class_name"))
    for row in _rows(connection, school_id, "plan"):
        data = row.data
        facts.subjects[data["subject_id"]] = str(data.get("subject_name") or data["subject_id"])
        facts.plans.append(Plan(data["class_id"], data["subject_id"], data.get("subgroup"),
                                data["teacher_id"], data["term_id"]))
    wanted_days = sorted(set(days))
    lesson_rows = _rows(connection, school_id, "lesson", records.c.day.in_(wanted_days))
    sheets = {r.entity_key: r.data for r in _rows(
        connection, school_id, "attendance",
        records.c.entity_key.in_([r.entity_key for r in lesson_rows]))} if lesson_rows else {}
    for row in lesson_rows:
        data, sheet = row.data, sheets.get(row.entity_key)
        facts.lessons.append(Lesson(
            row.entity_key, data["class_id"], data["subject_id"], data["teacher_id"],
            row.day, int(data.get("period") or 0), data.get("subgroup"),
            str(data.get("topic") or ""), str(data.get("homework") or ""), sheet is not None,
            tuple((a["student_id"], a.get("reason")) for a in (sheet or {}).get("absent", []))))
    mark_filter = [records.c.day.in_(wanted_days), records.c.stamp > marks_since]
    terms = list(final_terms)
    if terms:
        mark_filter.append(records.c.tag.in_(sorted(FINAL_KINDS)))
    for row in _rows(connection, school_id, "mark", or_(*mark_filter)):
        data = row.data
        if row.tag in FINAL_KINDS and data.get("term_id") not in terms and \
                row.stamp <= marks_since:
            continue
        facts.marks.append(Mark(
            row.entity_key, data["student_id"], data["class_id"], data["subject_id"],
            data["teacher_id"], data.get("lesson_id"), row.day, str(data.get("value") or ""),
            data.get("work_type"), str(data.get("kind") or "current"), data.get("term_id"),
            datetime.fromisoformat(row.stamp.split("|", 1)[0])))
    for row in connection.execute(select(findings).where(
            findings.c.school_id == school_id, findings.c.status == "open")):
        facts.findings.append(Finding(row.finding_id, row.rule, row.responsible, row.teacher_id,
                                      row.class_id, row.day, row.message,
                                      _aware(row.opened_at), row.subject_id))
    return facts


def teacher_recipient(data: dict[str, Any]) -> Recipient:
    return Recipient(
        kind="teacher", person_id=str(data["teacher_id"]), full_name=str(data["full_name"]),
        language=data.get("preferred_language") or "ru", email=data.get("email"),
        telegram_chat_id=data.get("telegram_chat_id"), phone=data.get("phone"),
        roles=tuple(data.get("roles") or ()), consent=data.get("notifications") is not False)


def parent_key(student_id: str, index: int, parent: dict[str, Any]) -> str:
    """A parent's id: the one Kundoluk gives, else their place in the child's profile."""
    return str(parent.get("parent_id") or f"{student_id}-p{index + 1}")


def parent_recipients(data: dict[str, Any]) -> list[Recipient]:
    student_id = str(data["student_id"])
    return [Recipient(
        kind="parent", person_id=parent_key(student_id, index, parent),
        full_name=str(parent["full_name"]), language=parent.get("preferred_language") or "ru",
        email=parent.get("email"), telegram_chat_id=parent.get("telegram_chat_id"),
        phone=parent.get("phone"), consent=parent.get("notifications") is True,
        student_id=student_id) for index, parent in enumerate(data.get("parents") or [])]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Findings and reports --------------------------------------------------------------------
def keep_findings(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Upsert finding states; the latest stamp wins."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["finding_id"] not in latest or latest[row["finding_id"]]["stamp"] < row["stamp"]:
            latest[row["finding_id"]] = row
    if not latest:
        return
    existing = {fid: stamp for fid, stamp in connection.execute(select(
        findings.c.finding_id, findings.c.stamp).where(findings.c.finding_id.in_(list(latest))))}
    fresh = [row for fid, row in latest.items()
             if fid not in existing or existing[fid] < row["stamp"]]
    if fresh:
        statement = conflict_insert(connection, findings)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[findings.c.finding_id],
            set_={c.name: statement.excluded[c.name] for c in findings.columns
                  if c.name != "finding_id"}), fresh)


def keep_reports(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(conflict_insert(connection, reports).on_conflict_do_nothing(
            index_elements=[reports.c.report_id]), rows)


def pending_reports(connection: Connection, school_id: str, received_before: datetime, *,
                    summarised_too: bool = False) -> list[Report]:
    """Scheduled reports not yet summarised (or all of them) received before a moment."""
    query = select(reports).where(reports.c.school_id == school_id,
                                  reports.c.received_at <= received_before)
    if not summarised_too:
        query = query.where(reports.c.summarised_at.is_(None))
    return [Report(r.report_id, r.kind, r.title, dict(r.parameters), list(r.summary),
                   _aware(r.received_at))
            for r in connection.execute(query.order_by(reports.c.report_id))]


def schools_with_pending_reports(connection: Connection) -> list[str]:
    return list(connection.execute(select(reports.c.school_id).where(
        reports.c.summarised_at.is_(None)).distinct()).scalars())


def mark_summarised(connection: Connection, report_ids: list[str], now: datetime) -> None:
    if report_ids:
        connection.execute(reports.update().where(reports.c.report_id.in_(report_ids))
                           .values(summarised_at=now))
