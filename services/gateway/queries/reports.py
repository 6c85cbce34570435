"""The reports read model (``gateway_reports``): requests waiting for the checker, their
reports, and the scheduled ones. Kept by ``handlers/reports.py``."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from services.gateway.adapters.tables import reports_view
from services.gateway.domain.fill_rate import Fortnight, fortnight_of, fortnight_series
from services.gateway.queries import Source, mapping, reading

#: what a listing may narrow by (equality)
LISTING_FILTERS = ("kind", "status", "requested_by")


def listing(source: Source, school_id: str | None, equal: dict[str, str],
            limit: int) -> list[RowMapping]:
    """Reports newest first, without their content; ``school_id`` None: every school."""
    query = select(*(c for c in reports_view.c if c.name != "content")).order_by(
        reports_view.c.requested_at.desc(), reports_view.c.id.desc()).limit(limit)
    if school_id is not None:
        query = query.where(reports_view.c.school_id == school_id)
    for name, value in equal.items():
        query = query.where(reports_view.c[name] == value)
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


def report(source: Source, report_id: str, school_id: str | None = None) -> RowMapping | None:
    """One report with its content (only of ``school_id`` when it is given)."""
    query = select(reports_view).where(reports_view.c.id == report_id)
    if school_id is not None:
        query = query.where(reports_view.c.school_id == school_id)
    with reading(source) as connection:
        return mapping(connection.execute(query).first())


#: the columns of a listing (a report's content can be large)
_META = [c for c in reports_view.c if c.name != "content"]


#: (report id, generated at) -> its fortnight figure. A ready report's content does not
#: change (a changed scheduled report comes as a new version with a new id), so each is
#: read and summed once per process, not on every dashboard (18 reports of ~800 rows in
#: a 1,500-student year). Bounded: the oldest entries go first.
_FIGURES: OrderedDict[tuple[str, Any], Fortnight | None] = OrderedDict()
_FIGURES_KEPT = 4096


def console_fill_rate_series(connection: Connection, school_id: str) -> list[Fortnight]:
    """The school's fill rate per fortnight over its reports (whole-school two-week
    checks: scheduled, or asked for without a class or teacher)."""
    rows = connection.execute(select(reports_view.c.id, reports_view.c.generated_at,
                                     reports_view.c.parameters, reports_view.c.scope)
                              .where(reports_view.c.school_id == school_id,
                                     reports_view.c.kind == "fill_rate",
                                     reports_view.c.status == "ready")).all()
    # a JSON column keeps "no scope" as JSON null, which SQL's IS NULL does not see
    whole_school = [row for row in rows if not row.scope
                    and not {"class_id", "teacher_id"} & set(row.parameters or {})]
    unread = [row.id for row in whole_school if (row.id, row.generated_at) not in _FIGURES]
    if unread:
        for made in connection.execute(select(reports_view.c.id, reports_view.c.generated_at,
                                              reports_view.c.content)
                                       .where(reports_view.c.id.in_(unread))):
            _FIGURES[(made.id, made.generated_at)] = fortnight_of(made.id, made.content or {})
        while len(_FIGURES) > _FIGURES_KEPT:
            _FIGURES.popitem(last=False)
    figures = []
    for row in whole_school:
        figure = _FIGURES.get((row.id, row.generated_at))
        if figure is not None:
            figures.append((row.generated_at, figure))
    return fortnight_series(figures)


def console_reports(connection: Connection, school_id: str | None, *, kind: str | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
    """Reports of the school, newest first, without their content."""
    query = select(*_META).order_by(reports_view.c.requested_at.desc(),
                                    reports_view.c.id.desc()).limit(limit)
    if school_id is not None:
        query = query.where(reports_view.c.school_id == school_id)
    if kind is not None:
        query = query.where(reports_view.c.kind == kind)
    return [dict(row._mapping) for row in connection.execute(query)]


def console_report(connection: Connection, report_id: str) -> dict[str, Any] | None:
    """One report with its content."""
    row = connection.execute(select(reports_view).where(reports_view.c.id == report_id)).first()
    return dict(row._mapping) if row is not None else None


def console_latest_class_report(connection: Connection, school_id: str, kind: str,
                                class_id: str) -> dict[str, Any] | None:
    """The newest ready whole-school report of this kind about the class: made for the
    class, or (program completion) for every class. Only the chosen one's content is
    read."""
    rows = connection.execute(select(reports_view.c.id, reports_view.c.parameters,
                                     reports_view.c.scope).where(
        reports_view.c.school_id == school_id, reports_view.c.kind == kind,
        reports_view.c.status == "ready")
        .order_by(reports_view.c.generated_at.desc()).limit(500))
    for row in rows:
        if row.scope:  # made for one teacher's view
            continue
        made_for = (row.parameters or {}).get("class_id")
        if made_for == class_id or (made_for is None and kind == "program_completion"):
            return console_report(connection, row.id)
    return None
