"""The personal-data access log (``gateway_audit``, written through ``adapters/audit.py``)
as the director reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.gateway.adapters.tables import audit
from services.gateway.queries import Source, reading


def lines(source: Source, *, school_id: str | None, token_id: str | None = None,
          action: str | None = None, since: datetime | None = None,
          until: datetime | None = None, before_id: int | None = None,
          limit: int | None = None) -> list[dict[str, Any]]:
    """The newest lines first, filtered; ``school_id`` None means every school."""
    query = select(audit).order_by(audit.c.id.desc())
    if school_id is not None:
        query = query.where(audit.c.school_id == school_id)
    if token_id:
        query = query.where(audit.c.token_id == token_id)
    if action:
        query = query.where(audit.c.action == action)
    if since is not None:
        query = query.where(audit.c.at >= since)
    if until is not None:
        query = query.where(audit.c.at < until)
    if before_id is not None:
        query = query.where(audit.c.id < before_id)
    if limit is not None:
        query = query.limit(limit)
    with reading(source) as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
