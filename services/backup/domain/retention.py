"""Which backups to keep (pure).

Clause 4.2 asks for a backup at least every half-year, and the year-end
archive is kept for good. So: every ``half_year`` and ``year_end`` backup is
kept forever; of the others, the newest backup of each of the last N days
and of each of the last M months is kept; and the newest verified backup of
a scope is never pruned, whatever its age or kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

FOREVER = frozenset({"half_year", "year_end"})


@dataclass(frozen=True)
class StoredBackup:
    id: str
    scope: str
    kind: str
    created_at: datetime
    verified: bool


@dataclass(frozen=True)
class Retention:
    daily: int = 7
    monthly: int = 12


def to_prune(backups: Iterable[StoredBackup], policy: Retention) -> set[str]:
    """Ids of the backups the policy lets go (per scope)."""
    by_scope: dict[str, list[StoredBackup]] = {}
    for backup in backups:
        by_scope.setdefault(backup.scope, []).append(backup)
    pruned: set[str] = set()
    for items in by_scope.values():
        newest_first = sorted(items, key=lambda b: (b.created_at, b.id), reverse=True)
        keep = {b.id for b in newest_first if b.kind in FOREVER}
        verified = [b for b in newest_first if b.verified]
        if verified:
            keep.add(verified[0].id)
        days: list[object] = []
        months: list[object] = []
        for backup in newest_first:
            day = backup.created_at.date()
            month = (day.year, day.month)
            if day not in days and len(days) < policy.daily:
                days.append(day)
                keep.add(backup.id)
            if month not in months and len(months) < policy.monthly:
                months.append(month)
                keep.add(backup.id)
        pruned |= {b.id for b in items} - keep
    return pruned
