"""The findings read model (``gateway_findings``, kept by ``handlers/findings.py``): what a
principal may see of it, listed, one by one, and per class."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import RowMapping, Select, and_, or_, select

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
