"""The findings read model (``gateway_findings``, kept by ``handlers/findings.py``): what a
principal may see of it, listed, one by one, and per class."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, func, or_, select

from services.gateway.adapters.tables import classes_view, findings_view
from services.gateway.domain.access import Principal, Role
from services.gateway.queries import Source, mapping, reading


@dataclass(frozen=True)
class FindingsFilter:
    """A listing's filters: equality on the named columns, a date range, the withdrawn."""

    school_id: str | None = None
    equal: dict[str, str] = field(default_factory=dict)  # column name -> value
    date_from: date | None = None
    date_to: date | None = None
    include_withdrawn: bool = False


def scoped(query: Select[Any], who: Principal) -> Select[Any]:
    """A findings query limited to what the principal may see: teachers their own
    findings, class teachers also those of their classes."""
    if who.role is Role.TEACHER:
        return query.where(findings_view.c.teacher_id == who.teacher_id)
    if who.role is Role.CLASS_TEACHER:
        theirs = select(classes_view.c.class_id).where(
            classes_view.c.school_id == who.school_id,
            classes_view.c.homeroom_teacher_id == who.teacher_id)
        return query.where(or_(findings_view.c.teacher_id == who.teacher_id,
                               findings_view.c.class_id.in_(theirs)))
    return query


def page(source: Source, who: Principal, wanted: FindingsFilter,
         after: tuple[date, str] | None, limit: int) -> list[RowMapping]:
    """Up to ``limit`` + 1 findings, newest date first, after the cursor (date, id); the
    extra row tells the caller there is a next page."""
    query = scoped(select(findings_view).order_by(
        findings_view.c.date.desc(), findings_view.c.id.desc()).limit(limit + 1), who)
    if wanted.school_id is not None:
        query = query.where(findings_view.c.school_id == wanted.school_id)
    for name, value in wanted.equal.items():
        query = query.where(findings_view.c[name] == value)
    if "status" not in wanted.equal and not wanted.include_withdrawn:
        query = query.where(findings_view.c.status != "withdrawn")
    if wanted.date_from is not None:
        query = query.where(findings_view.c.date >= wanted.date_from)
    if wanted.date_to is not None:
        query = query.where(findings_view.c.date <= wanted.date_to)
    if after is not None:
        after_date, after_id = after
        query = query.where(or_(findings_view.c.date < after_date,
                                and_(findings_view.c.date == after_date,
                                     findings_view.c.id < after_id)))
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


def visible(source: Source, who: Principal, finding_id: str) -> RowMapping | None:
    """The finding if the principal (token or console user) may see it."""
    with reading(source) as connection:
        found = connection.execute(scoped(
            select(findings_view).where(findings_view.c.id == finding_id), who)).first()
    if found is None or not who.sees_school(found.school_id):
        return None
    return mapping(found)


def of_class(source: Source, who: Principal, school_id: str,
             class_id: str) -> list[RowMapping]:
    """Every finding of a class journal the principal may see (its remarks sheet)."""
    query = scoped(select(findings_view).where(findings_view.c.school_id == school_id,
                                               findings_view.c.class_id == class_id), who)
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


#: the most rows a console page shows
CONSOLE_LIMIT = 200


@dataclass(frozen=True)
class OpenCounts:
    by_rule: list[tuple[str, int]]
    by_teacher: list[tuple[str, int]]
    #: what each of those teachers owes: their open findings counted by rule
    owed: dict[str, dict[str, int]]


def console_open_counts(connection: Connection, who: Principal, school_id: str | None,
                        *, teachers: int = 10) -> OpenCounts:
    """Open findings by rule (most first), the teachers with the most open findings and
    what they owe: one grouped scan (a 1,500-student year has tens of thousands)."""
    query = scoped(select(findings_view.c.rule, findings_view.c.teacher_id,
                           func.count().label("total"))
                    .where(findings_view.c.status == "open")
                    .group_by(findings_view.c.rule, findings_view.c.teacher_id), who)
    if school_id is not None:
        query = query.where(findings_view.c.school_id == school_id)
    by_rule: dict[str, int] = {}
    by_teacher: dict[str, int] = {}
    owed: dict[str, dict[str, int]] = {}
    for row in connection.execute(query):
        by_rule[row.rule] = by_rule.get(row.rule, 0) + row.total
        if row.teacher_id is not None:
            by_teacher[row.teacher_id] = by_teacher.get(row.teacher_id, 0) + row.total
            owed.setdefault(row.teacher_id, {})[row.rule] = row.total
    ranked = sorted(by_teacher.items(), key=lambda item: (-item[1], item[0]))[:teachers]
    return OpenCounts(sorted(by_rule.items(), key=lambda item: (-item[1], item[0])), ranked,
                      {teacher: owed[teacher] for teacher, _ in ranked})


def console_findings(connection: Connection, who: Principal, school_id: str | None,
                     filters: dict[str, str], *, date_from: Any = None, date_to: Any = None,
                     limit: int = CONSOLE_LIMIT) -> list[Any]:
    """Findings the principal may see, newest first, filtered by column equality."""
    query = scoped(select(findings_view), who)
    if school_id is not None:
        query = query.where(findings_view.c.school_id == school_id)
    for name, value in filters.items():
        if value:
            query = query.where(findings_view.c[name] == value[:64])
    if date_from is not None:
        query = query.where(findings_view.c.date >= date_from)
    if date_to is not None:
        query = query.where(findings_view.c.date <= date_to)
    query = query.order_by(findings_view.c.date.desc(), findings_view.c.id.desc()).limit(limit)
    return list(connection.execute(query))


def console_teacher_findings(connection: Connection, who: Principal, school_id: str,
                             teacher_id: str, status: str | None = "open") -> list[Any]:
    """A teacher's findings (open by default), oldest deadline first."""
    query = select(findings_view).where(findings_view.c.school_id == school_id,
                                        findings_view.c.teacher_id == teacher_id)
    if status is not None:
        query = query.where(findings_view.c.status == status)
    else:
        query = query.where(findings_view.c.status != "open")
    order = findings_view.c.date if status == "open" else findings_view.c.date.desc()
    return list(connection.execute(scoped(query, who).order_by(order).limit(CONSOLE_LIMIT)))


def console_class_findings(connection: Connection, who: Principal, school_id: str,
                           class_id: str) -> list[Any]:
    """A class journal's findings (its remarks), open first, newest first."""
    query = scoped(select(findings_view).where(findings_view.c.school_id == school_id,
                                                findings_view.c.class_id == class_id), who)
    return list(connection.execute(query.order_by(
        (findings_view.c.status != "open"), findings_view.c.date.desc()).limit(CONSOLE_LIMIT)))


def console_finding(connection: Connection, who: Principal, finding_id: str) -> Any:
    """One finding with its evidence and history, if the principal may see it."""
    found = connection.execute(scoped(select(findings_view).where(
        findings_view.c.id == finding_id), who)).first()
    if found is None or not who.sees_school(found.school_id):
        return None
    return found
