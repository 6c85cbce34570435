"""A school's time zone as its calendar gives it (read model ``gateway_school_zones``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import school_zones_view

DEFAULT_ZONE = "Asia/Bishkek"


def school_zone(connection: Connection, school_id: str | None) -> ZoneInfo:
    """The zone of the school's newest calendar; Asia/Bishkek when none came (or for
    "all schools"), as the printer and the checker decide it."""
    name = None
    if school_id is not None:
        name = connection.execute(select(school_zones_view.c.timezone).where(
            school_zones_view.c.school_id == school_id)).scalar()
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)
