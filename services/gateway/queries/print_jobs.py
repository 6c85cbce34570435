"""Reads of the print jobs read model (``gateway_print_jobs``) for the console's pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import print_jobs_view
from services.gateway.domain.access import Principal, Role

OWN_ONLY = frozenset({Role.TEACHER, Role.CLASS_TEACHER})


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
