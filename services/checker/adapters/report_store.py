"""The reports' statistics in the checker's tables, and what a report reads."""

from __future__ import annotations

from dataclasses import astuple
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from services.checker.adapters.tables import (
    facts,
    final_stats,
    findings,
    lesson_stats,
    scheduled_reports,
)
from services.checker.domain.reports import FindingRef, LessonStat, Plan, SchoolBook
from services.checker.domain.rules import Term

_FIELDS = tuple(LessonStat.__dataclass_fields__)
_CHUNK = 500


def save_statistics(connection: Connection, school_id: str, lessons: list[LessonStat],
                    finals: dict[tuple[str, str, str], int]) -> int:
    """Bring the school's statistics in line with ``lessons``; returns the rows written."""
    stored = {row[0]: tuple(row) for row in connection.execute(
        select(*(lesson_stats.c[name] for name in _FIELDS))
        .where(lesson_stats.c.school_id == school_id))}
    wanted = {lesson.lesson_id: astuple(lesson) for lesson in lessons}
    changed = [values for lesson_id, values in wanted.items() if stored.get(lesson_id) != values]
    gone = [lesson_id for lesson_id in stored if lesson_id not in wanted]
    stale = [values[0] for values in changed if values[0] in stored]
    for ids in (gone, stale):
        for start in range(0, len(ids), _CHUNK):
            connection.execute(delete(lesson_stats).where(
                lesson_stats.c.school_id == school_id,
                lesson_stats.c.lesson_id.in_(ids[start:start + _CHUNK])))
    if changed:
        connection.execute(insert(lesson_stats), [
            {"school_id": school_id, **dict(zip(_FIELDS, values, strict=True))}
            for values in changed])
    connection.execute(delete(final_stats).where(final_stats.c.school_id == school_id))
    if finals:
        connection.execute(insert(final_stats), [
            {"school_id": school_id, "class_id": class_id, "subject_id": subject_id,
             "term_id": term_id, "marks_set": count}
            for (class_id, subject_id, term_id), count in sorted(finals.items())])
    return len(changed) + len(gone)


def lessons(connection: Connection, school_id: str, date_from: date, date_to: date,
            class_id: str | None = None) -> list[LessonStat]:
    query = select(*(lesson_stats.c[name] for name in _FIELDS)).where(
        lesson_stats.c.school_id == school_id, lesson_stats.c.date >= date_from,
        lesson_stats.c.date <= date_to)
    if class_id is not None:
        query = query.where(lesson_stats.c.class_id == class_id)
    return [LessonStat(*row) for row in connection.execute(query)]


def finding_refs(connection: Connection, school_id: str, date_from: date, date_to: date,
                 class_id: str | None = None) -> list[FindingRef]:
    query = select(findings.c.rule, findings.c.status, findings.c.date, findings.c.class_id,
                   findings.c.subject_id, findings.c.teacher_id).where(
        findings.c.school_id == school_id, findings.c.date >= date_from,
        findings.c.date <= date_to)
    if class_id is not None:
        query = query.where(findings.c.class_id == class_id)
    return [FindingRef(*row) for row in connection.execute(query)]


def final_counts(connection: Connection, school_id: str,
                 class_id: str) -> dict[tuple[str, str, str], int]:
    return {(row.class_id, row.subject_id, row.term_id): row.marks_set
            for row in connection.execute(select(final_stats).where(
                final_stats.c.school_id == school_id, final_stats.c.class_id == class_id))}


def _states(connection: Connection, school_id: str, kind: str,
            prefix: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    query = select(facts.c.entity_key, facts.c.state).where(
        facts.c.school_id == school_id, facts.c.kind == kind)
    if prefix is not None:
        query = query.where(facts.c.entity_key.startswith(prefix, autoescape=True))
    return [(row.entity_key, row.state) for row in connection.execute(query)]


def plans(connection: Connection, school_id: str, class_id: str | None = None) -> list[Plan]:
    """The КТП of the school (or of one class), with their planned dates."""
    found = []
    for _, state in _states(connection, school_id, "plan",
                            f"{class_id}|" if class_id is not None else None):
        data = state.get("data")
        if data:
            found.append(Plan(data["class_id"], data["subject_id"], data.get("subgroup"),
                              data["term_id"], data["teacher_id"],
                              tuple(date.fromisoformat(p["planned_date"])
                                    for p in data["lessons"])))
    return found


def school_book(connection: Connection, school_id: str, today: date) -> SchoolBook:
    """Terms, names and homeroom teachers, read from the stored facts."""
    book = SchoolBook(today=today)
    for _, state in _states(connection, school_id, "calendar"):
        for term in (state.get("data") or {}).get("terms", []):
            book.terms.append(Term(term["id"], term["kind"], term["number"],
                                   date.fromisoformat(term["start"]),
                                   date.fromisoformat(term["end"])))
    for teacher_id, state in _states(connection, school_id, "teacher"):
        if state.get("data"):
            book.teachers[teacher_id] = state["data"]["full_name"]
    for class_id, state in _states(connection, school_id, "class"):
        if state.get("data"):
            book.homeroom[class_id] = state["data"].get("homeroom_teacher_id")
    names = select(facts.c.state["data"]["subject_id"].as_string(),
                   facts.c.state["data"]["subject_name"].as_string()).where(
        facts.c.school_id == school_id, facts.c.kind == "plan").distinct()
    book.subjects = {subject_id: name for subject_id, name in connection.execute(names)
                     if subject_id}
    return book


def timezone_of(connection: Connection, school_id: str) -> str | None:
    for _, state in _states(connection, school_id, "calendar"):
        return str((state.get("data") or {}).get("timezone") or "Asia/Bishkek")
    return None


def claim_scheduled(connection: Connection, school_id: str, kind: str, period: str, *,
                    report_id: str, now: datetime) -> bool:
    """Record that this scheduled report is being made; False if it already was."""
    make = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    claimed = connection.execute(make(scheduled_reports).values(
        school_id=school_id, kind=kind, period=period, report_id=report_id, made_at=now
    ).on_conflict_do_nothing(index_elements=["school_id", "kind", "period"])
        .returning(scheduled_reports.c.report_id)).first()
    return claimed is not None


def made_already(connection: Connection, school_id: str,
                 wanted: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (kind, period) of ``wanted`` were made for the school."""
    if not wanted:
        return set()
    rows = connection.execute(select(scheduled_reports.c.kind, scheduled_reports.c.period).where(
        and_(scheduled_reports.c.school_id == school_id,
             tuple_(scheduled_reports.c.kind, scheduled_reports.c.period).in_(wanted))))
    return {(row.kind, row.period) for row in rows}
