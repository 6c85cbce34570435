"""The backups read model and the archive registry (``gateway_backups``,
``gateway_archive_registry``), kept by ``handlers/backups.py``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select

from services.gateway.adapters.tables import archive_view, backups_view
from services.gateway.queries import Source, mapping, reading
from shared.events.messages import ALL_SCHOOLS

LISTING_MOST = 200


def listing(source: Source, school_id: str | None) -> list[RowMapping]:
    """Backups newest first: a school's own and those of every school (which include it);
    ``school_id`` None: all of them."""
    query = select(backups_view).order_by(backups_view.c.requested_at.desc()).limit(
        LISTING_MOST)
    if school_id is not None:
        query = query.where(backups_view.c.scope.in_((school_id, ALL_SCHOOLS)))
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


def backup(source: Source, backup_id: str) -> RowMapping | None:
    with reading(source) as connection:
        return mapping(connection.execute(select(backups_view).where(
            backups_view.c.id == backup_id)).first())


def archive_registry(source: Source, school_id: str | None,
                     academic_year: str | None) -> list[RowMapping]:
    """Entries by school, year and number; ``None`` filters nothing."""
    query = select(archive_view).order_by(archive_view.c.school_id,
                                          archive_view.c.academic_year, archive_view.c.number)
    if school_id is not None:
        query = query.where(archive_view.c.school_id == school_id)
    if academic_year:
        query = query.where(archive_view.c.academic_year == academic_year)
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


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
