"""Reads of the backups and archive registry read models for the console's pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import archive_view, backups_view

ALL_SCHOOLS = "*"


def console_backups(connection: Connection, school_id: str | None, *,
                    limit: int = 50) -> list[Any]:
    """Backups newest first: the school's own and those of every school (which hold it)."""
    query = select(backups_view).order_by(backups_view.c.requested_at.desc()).limit(limit)
    if school_id is not None:
        query = query.where(backups_view.c.scope.in_((school_id, ALL_SCHOOLS)))
    return list(connection.execute(query))


def console_archive(connection: Connection, school_id: str | None, *,
                    limit: int = 500) -> list[Any]:
    """The archive registry: the class journals bound and registered at year end."""
    query = select(archive_view).order_by(archive_view.c.registered_at.desc()).limit(limit)
    if school_id is not None:
        query = query.where(archive_view.c.school_id == school_id)
    return list(connection.execute(query))
