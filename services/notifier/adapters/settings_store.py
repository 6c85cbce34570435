"""A school's own send times and whether it sends parents' notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from services.notifier.adapters.tables import school_settings
from services.notifier.domain.timing import SchoolTimes, parse_clock
from shared.db.inserts import conflict_insert
from shared.settings import Settings


def defaults(settings: Settings) -> SchoolTimes:
    return SchoolTimes(reminder_time=parse_clock(settings.notifier_reminder_time),
                       digest_time=parse_clock(settings.notifier_digest_time),
                       parents_enabled=settings.notifier_parents_enabled)


def times_of(connection: Connection, school_id: str, fallback: SchoolTimes) -> SchoolTimes:
    row = connection.execute(select(school_settings).where(
        school_settings.c.school_id == school_id)).first()
    if row is None:
        return fallback
    return SchoolTimes(
        reminder_time=parse_clock(row.reminder_time) if row.reminder_time
        else fallback.reminder_time,
        digest_time=parse_clock(row.digest_time) if row.digest_time else fallback.digest_time,
        parents_enabled=fallback.parents_enabled if row.parents_enabled is None
        else row.parents_enabled)


def change(connection: Connection, school_id: str, now: datetime, *,
           reminder_time: str | None = None, digest_time: str | None = None,
           parents_enabled: bool | None = None) -> None:
    for value in (reminder_time, digest_time):
        if value is not None:
            parse_clock(value)  # a clear ValueError for "25:00" or "four"
    values = {"reminder_time": reminder_time, "digest_time": digest_time,
              "parents_enabled": parents_enabled}
    given = {k: v for k, v in values.items() if v is not None}
    statement = conflict_insert(connection, school_settings)
    connection.execute(statement.values(school_id=school_id, updated_at=now, **values)
                       .on_conflict_do_update(index_elements=[school_settings.c.school_id],
                                              set_={**given, "updated_at": now}))
