"""The reports' statistics in the checker's tables, and what a report reads."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from services.checker.adapters.tables import (
    final_stats,
    findings,
    lesson_stats,
    report_basis,
    scheduled_reports,
)
from services.checker.domain.reports import (
    WHOLE_SCHOOL,
    FillRateRow,
    FindingRef,
    Held,
    LessonStat,
    SchoolBook,
    Scope,
)
from services.checker.domain.rules import Term
from shared.db.engine import is_postgresql
from shared.db.inserts import conflict_insert

_FIELDS = tuple(LessonStat.__dataclass_fields__)
_CHUNK = 500


def save_statistics(connection: Connection, school_id: str, lessons: list[LessonStat],
                    finals: dict[tuple[str, str, str], int], book: SchoolBook) -> int:
    """Bring the school's statistics in line with ``lessons``; returns the rows written."""
    basis, plans = book.dump()
    kept = connection.execute(select(report_basis.c.basis, report_basis.c.plans).where(
        report_basis.c.school_id == school_id)).first()
    if kept is None or tuple(kept) != (basis, plans):
        statement = conflict_insert(connection, report_basis).values(
            school_id=school_id, basis=basis, plans=plans)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["school_id"], set_={"basis": statement.excluded.basis,
                                                "plans": statement.excluded.plans}))
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


def _in_scope(query: Any, scope: Scope) -> Any:
    if scope.teacher_id is None:
        return query
    return query.where(or_(lesson_stats.c.teacher_id == scope.teacher_id,
                           lesson_stats.c.class_id.in_(sorted(scope.classes))))


def fill_rate_rows(connection: Connection, school_id: str, date_from: date, date_to: date, *,
                   class_id: str | None = None, scope: Scope = WHOLE_SCHOOL,
                   with_lessons: bool = False) -> list[FillRateRow]:
    """Per class, subject and teacher, the period's lesson statistics summed (in SQL),
    with the open findings of those lessons and marks by rule."""
    key = (lesson_stats.c.class_id, lesson_stats.c.subject_id, lesson_stats.c.teacher_id)
    where = [lesson_stats.c.school_id == school_id, lesson_stats.c.date >= date_from,
             lesson_stats.c.date <= date_to]
    if class_id is not None:
        where.append(lesson_stats.c.class_id == class_id)
    sums = select(*key, func.count(), *(
        func.sum(case((lesson_stats.c[flag], 1), else_=0))
        for flag in ("topic_on_time", "homework_on_time", "attendance_on_time")), *(
        func.sum(lesson_stats.c[count])
        for count in ("marks", "marks_with_deadline", "marks_on_time", "homework_judged",
                      "homework_ahead"))).where(*where)
    rows = {tuple(row[:3]): FillRateRow(*row[:3], *(int(v or 0) for v in row[3:]))
            for row in connection.execute(_in_scope(sums, scope).group_by(*key)).all()}
    counts = select(findings.c.class_id, findings.c.subject_id, findings.c.teacher_id,
                    findings.c.rule, func.count()).where(
        findings.c.school_id == school_id, findings.c.status == "open",
        findings.c.date >= date_from, findings.c.date <= date_to).group_by(
        findings.c.class_id, findings.c.subject_id, findings.c.teacher_id, findings.c.rule)
    if class_id is not None:
        counts = counts.where(findings.c.class_id == class_id)
    for c, subject, teacher, rule, count in connection.execute(counts).all():
        if (row := rows.get((c, subject, teacher))) is not None:
            row.open_findings[rule] = int(count)
    if with_lessons:  # one joined string per row: a year has tens of thousands of lessons
        joined = (func.string_agg(lesson_stats.c.lesson_id, ",")
                  if is_postgresql(connection)
                  else func.group_concat(lesson_stats.c.lesson_id, ","))
        ids = select(*key, joined).where(*where).group_by(*key)
        for c, subject, teacher, text in connection.execute(_in_scope(ids, scope)).all():
            rows[(c, subject, teacher)].lesson_ids = sorted(text.split(","))
    return [rows[k] for k in sorted(rows)]


def held_counts(connection: Connection, school_id: str, terms: list[Term], on: date, *,
                class_id: str | None = None) -> Held:
    """Lessons held per class, subject, subgroup and term, from the term's start to ``on``."""
    held: Held = {}
    for term in terms:
        if term.kind != "quarter" or term.start > on:
            continue
        key = (lesson_stats.c.class_id, lesson_stats.c.subject_id, lesson_stats.c.subgroup)
        query = select(*key, func.count()).where(
            lesson_stats.c.school_id == school_id, lesson_stats.c.date >= term.start,
            lesson_stats.c.date <= min(on, term.end)).group_by(*key)
        if class_id is not None:
            query = query.where(lesson_stats.c.class_id == class_id)
        for c, subject, subgroup, count in connection.execute(query).all():
            held[(c, subject, subgroup, term.term_id)] = int(count)
    return held


def finding_refs(connection: Connection, school_id: str, date_from: date, date_to: date,
                 class_id: str | None = None) -> list[FindingRef]:
    query = select(findings.c.rule, findings.c.status, findings.c.date, findings.c.class_id,
                   findings.c.subject_id, findings.c.teacher_id).where(
        findings.c.school_id == school_id, findings.c.date >= date_from,
        findings.c.date <= date_to)
    if class_id is not None:
        query = query.where(findings.c.class_id == class_id)
    return [FindingRef(*row) for row in connection.execute(query).all()]


def final_counts(connection: Connection, school_id: str,
                 class_id: str) -> dict[tuple[str, str, str], int]:
    return {(row.class_id, row.subject_id, row.term_id): row.marks_set
            for row in connection.execute(select(final_stats).where(
                final_stats.c.school_id == school_id, final_stats.c.class_id == class_id))}


def swept_schools(connection: Connection) -> list[str]:
    """The schools that have been swept at least once (they have a book)."""
    return sorted(connection.execute(select(report_basis.c.school_id)).scalars())


def book(connection: Connection, school_id: str, *, with_plans: bool) -> SchoolBook | None:
    """The school's book as of its last sweep (None: never swept)."""
    columns = [report_basis.c.basis] + ([report_basis.c.plans] if with_plans else [])
    stored = connection.execute(select(*columns).where(
        report_basis.c.school_id == school_id)).first()
    if stored is None:
        return None
    return SchoolBook.load(stored[0], stored[1] if with_plans else None)


def claim_scheduled(connection: Connection, school_id: str, kind: str, period: str, *,
                    report_id: str, now: datetime, fingerprint: str | None = None) -> bool:
    """Record that this scheduled report is being made; False if it already was."""
    claimed = connection.execute(conflict_insert(connection, scheduled_reports).values(
        school_id=school_id, kind=kind, period=period, report_id=report_id, made_at=now,
        version=1, fingerprint=fingerprint, checked_at=now.astimezone(UTC),
    ).on_conflict_do_nothing(index_elements=["school_id", "kind", "period"])
        .returning(scheduled_reports.c.report_id)).first()
    return claimed is not None


@dataclass(frozen=True)
class ScheduledReport:
    report_id: str
    version: int
    fingerprint: str | None
    checked_at: datetime | None


def scheduled_made(connection: Connection, school_id: str,
                   wanted: list[tuple[str, str]]) -> dict[tuple[str, str], ScheduledReport]:
    """The newest version of each (kind, period) of ``wanted`` made for the school."""
    if not wanted:
        return {}
    rows = connection.execute(select(scheduled_reports).where(
        and_(scheduled_reports.c.school_id == school_id,
             tuple_(scheduled_reports.c.kind, scheduled_reports.c.period).in_(wanted))))
    return {(row.kind, row.period): ScheduledReport(
        row.report_id, row.version, row.fingerprint,
        row.checked_at.replace(tzinfo=row.checked_at.tzinfo or UTC) if row.checked_at else None)
        for row in rows}


def checked_scheduled(connection: Connection, school_id: str, kind: str, period: str, *,
                      fingerprint: str, now: datetime) -> None:
    """The report's figures were compared (and are the same)."""
    connection.execute(update(scheduled_reports).where(
        scheduled_reports.c.school_id == school_id, scheduled_reports.c.kind == kind,
        scheduled_reports.c.period == period).values(fingerprint=fingerprint,
                                                     checked_at=now.astimezone(UTC)))


def replace_scheduled(connection: Connection, school_id: str, kind: str, period: str, *,
                      replaced: ScheduledReport, report_id: str, fingerprint: str,
                      now: datetime) -> bool:
    """Record a new version; False if another checker made one first."""
    changed = connection.execute(update(scheduled_reports).where(
        scheduled_reports.c.school_id == school_id, scheduled_reports.c.kind == kind,
        scheduled_reports.c.period == period,
        scheduled_reports.c.report_id == replaced.report_id).values(
        report_id=report_id, version=replaced.version + 1, fingerprint=fingerprint,
        made_at=now, checked_at=now.astimezone(UTC)))
    return bool(changed.rowcount)

