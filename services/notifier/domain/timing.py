"""When messages may go: the school's send times, quiet hours, retry backoff (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)


def parse_clock(text: str) -> time:
    """ "16:00" → time(16, 0); a clear error otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a time of day like 16:00") from exc


def is_quiet(moment: datetime, timezone: str) -> bool:
    local = moment.astimezone(ZoneInfo(timezone)).time()
    return local >= QUIET_START or local < QUIET_END


def release_time(moment: datetime, timezone: str) -> datetime:
    """``moment``, or the end of the quiet hours (08:00 local) it falls into; in UTC (what
    the tables keep)."""
    if not is_quiet(moment, timezone):
        return moment.astimezone(UTC)
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class SchoolTimes:
    """A school's settings for messages (per school; defaults from the notifier's settings)."""

    reminder_time: time = time(16, 0)
    digest_time: time = time(17, 0)
    parents_enabled: bool = True


def due_today(now: datetime, timezone: str, at: time) -> bool:
    """Has the school's local clock passed ``at`` today (and not yet the quiet hours)?"""
    local = now.astimezone(ZoneInfo(timezone))
    return at <= local.time() < QUIET_START


def local_date(now: datetime, timezone: str) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


def backoff(attempt: int, base: float, cap: float = 3600.0) -> timedelta:
    """Delay before attempt ``attempt + 1``: base, 2·base, 4·base … up to ``cap`` seconds."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempt - 1)))
