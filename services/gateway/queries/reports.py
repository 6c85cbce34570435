"""The reports read model (``gateway_reports``): requests waiting for the checker, their
reports, and the scheduled ones. Kept by ``handlers/reports.py``."""

from __future__ import annotations

from sqlalchemy import RowMapping, select

from services.gateway.adapters.tables import reports_view
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
