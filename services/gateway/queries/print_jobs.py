"""The print jobs read model (``gateway_print_jobs``): jobs the API sent and those the
printer ran itself. Kept by ``handlers/print_jobs.py``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select

from services.gateway.adapters.tables import print_jobs_view
from services.gateway.domain.access import Principal, Role
from services.gateway.queries import Source, mapping, reading

#: what a listing may narrow by (equality)
LISTING_FILTERS = ("kind", "status")
#: roles that see only the print jobs they asked for
OWN_ONLY = frozenset({Role.TEACHER, Role.CLASS_TEACHER})


def listing(source: Source, school_id: str | None, equal: dict[str, str], limit: int,
            teacher_id: str | None = None) -> list[RowMapping]:
    """Jobs newest first; ``school_id`` None: every school; ``teacher_id``: only the jobs
    that teacher asked for."""
    query = select(print_jobs_view).order_by(print_jobs_view.c.requested_at.desc(),
                                             print_jobs_view.c.id.desc()).limit(limit)
    if school_id is not None:
        query = query.where(print_jobs_view.c.school_id == school_id)
    if teacher_id is not None:
        query = query.where(print_jobs_view.c.teacher_id == teacher_id)
    for name, value in equal.items():
        query = query.where(print_jobs_view.c[name] == value)
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


def job(source: Source, job_id: str) -> RowMapping | None:
    with reading(source) as connection:
        return mapping(connection.execute(select(print_jobs_view).where(
            print_jobs_view.c.id == job_id)).first())


def console_print_jobs(connection: Connection, who: Principal, school_id: str | None, *,
                       limit: int = 50) -> list[Any]:
    """Print jobs newest first; teachers and class teachers see the jobs they asked for."""
    query = select(print_jobs_view).order_by(print_jobs_view.c.requested_at.desc(),
                                             print_jobs_view.c.id.desc()).limit(limit)
    if school_id is not None:
        query = query.where(print_jobs_view.c.school_id == school_id)
    if who.role in OWN_ONLY:
        query = query.where(print_jobs_view.c.teacher_id == (who.teacher_id or ""))
    return list(connection.execute(query))
