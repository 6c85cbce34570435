"""When scheduled backups are due (pure).

Schedules are cron expressions in a time zone (``KOZOMOL_BACKUP_SCHEDULE``,
nightly by default; ``KOZOMOL_BACKUP_HALF_YEAR_SCHEDULE``, the half-year
boundaries). A *slot* is one tick of a schedule, named by its kind and local
time (``daily:2026-11-28T02:00+06:00``). Only the latest slot that has passed
is due: a service that was down for a week makes one backup when it returns,
not seven. The slot name is unique per scope in the backup database, so two
instances that see the same slot make one backup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter


@dataclass(frozen=True)
class Schedule:
    kind: str
    cron: str


def latest_slot(schedule: Schedule, now: datetime, timezone: str) -> tuple[str, datetime]:
    """The most recent tick at or before ``now``: (slot name, its time)."""
    local = now.astimezone(ZoneInfo(timezone))
    iterator = croniter(schedule.cron, local)
    if croniter.match(schedule.cron, local.replace(second=0, microsecond=0)):
        tick = local.replace(second=0, microsecond=0)
    else:
        tick = iterator.get_prev(datetime)
    return f"{schedule.kind}:{tick.isoformat(timespec='minutes')}", tick


def due_slots(schedules: list[Schedule], now: datetime, timezone: str,
              since: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """(kind, slot, tick) of each schedule's latest tick, if it is after ``since``."""
    due = []
    for schedule in schedules:
        slot, tick = latest_slot(schedule, now, timezone)
        if since is None or tick > since:
            due.append((schedule.kind, slot, tick))
    return due
