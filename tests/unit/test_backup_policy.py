"""Retention and scheduling decisions of the backup service (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.backup.domain.registry import ArchiveEntry, next_number
from services.backup.domain.retention import Retention, StoredBackup, to_prune
from services.backup.domain.schedule import Schedule, due_slots, latest_slot

START = datetime(2026, 1, 1, 2, tzinfo=UTC)


def nightly(days: int, scope: str = "*", verified: bool = True) -> list[StoredBackup]:
    return [StoredBackup(f"{scope}-d{n:03d}", scope, "daily", START + timedelta(days=n),
                         verified) for n in range(days)]


def test_keeps_n_daily_and_m_monthly() -> None:
    backups = nightly(120)
    kept = {b.id for b in backups} - to_prune(backups, Retention(daily=7, monthly=3))
    newest = sorted(backups, key=lambda b: b.created_at)[-7:]
    assert {b.id for b in newest} <= kept
    # the newest of each of the last three months: April (newest overall), March, February
    months = {b.created_at.strftime("%Y-%m") for b in backups if b.id in kept}
    assert months == {"2026-02", "2026-03", "2026-04"}
    assert len(kept) == 7 + 2  # April's newest is also among the 7 dailies


def test_half_year_and_year_end_are_kept_forever() -> None:
    backups = [*nightly(400),
               StoredBackup("h1", "*", "half_year", START, True),
               StoredBackup("y1", "*", "year_end", START + timedelta(days=150), False)]
    doomed = to_prune(backups, Retention(daily=1, monthly=0))
    assert "h1" not in doomed and "y1" not in doomed
    assert len(backups) - len(doomed) == 3


def test_the_last_verified_backup_is_never_pruned() -> None:
    old_verified = StoredBackup("good", "*", "daily", START, True)
    unverified = [StoredBackup(f"u{n}", "*", "daily", START + timedelta(days=n + 1), False)
                  for n in range(30)]
    doomed = to_prune([old_verified, *unverified], Retention(daily=3, monthly=0))
    assert "good" not in doomed
    assert len(doomed) == 27


def test_scopes_are_pruned_separately() -> None:
    backups = nightly(10, "a") + nightly(10, "b")
    kept = {b.id for b in backups} - to_prune(backups, Retention(daily=2, monthly=0))
    assert kept == {"a-d009", "a-d008", "b-d009", "b-d008"}


def test_latest_slot_is_in_the_schedule_time_zone() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # 18:00 in Bishkek
    slot, tick = latest_slot(Schedule("daily", "0 2 * * *"), now, "Asia/Bishkek")
    assert slot == "daily:2026-11-28T02:00+06:00"
    assert tick.astimezone(UTC) == datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    # before 02:00 local time, the due slot is the previous night's
    early = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    assert latest_slot(Schedule("daily", "0 2 * * *"), early, "Asia/Bishkek")[0] == \
        "daily:2026-11-27T02:00+06:00"


def test_a_tick_exactly_now_is_due_and_half_years_are_their_own_slots() -> None:
    now = datetime(2026, 5, 31, 21, 0, tzinfo=UTC)  # 1 June 03:00 in Bishkek
    due = due_slots([Schedule("daily", "0 2 * * *"), Schedule("half_year", "0 3 1 1,6 *")],
                    now, "Asia/Bishkek")
    assert [(kind, slot) for kind, slot, _ in due] == [
        ("daily", "daily:2026-06-01T02:00+06:00"),
        ("half_year", "half_year:2026-06-01T03:00+06:00")]
    later = due_slots([Schedule("half_year", "0 3 1 1,6 *")], now + timedelta(days=40),
                      "Asia/Bishkek")
    assert later[0][1] == "half_year:2026-06-01T03:00+06:00"  # same slot: no second backup


def test_registry_numbers_and_display() -> None:
    assert next_number([]) == 1
    assert next_number([1, 2, 5]) == 6
    entry = ArchiveEntry(3, "s", "5a", "2026-2027", 75, "ab", "pdf/s/x.pdf", "j",
                         datetime(2027, 6, 1, tzinfo=UTC), "Завуч")
    assert entry.registry_number == "2026-2027/003"
    assert ArchiveEntry.from_data(entry.as_data()) == entry
