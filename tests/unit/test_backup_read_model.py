"""The gateway's read model of backups keeps the latest stage whatever the event order."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, select

from services.gateway.adapters.tables import backups_view, metadata
from services.gateway.handlers.backups import apply_backup_events
from shared.events.envelope import Event

NOW = datetime(2026, 11, 28, 20, tzinfo=UTC)


def event(event_type: str, data: dict[str, object]) -> Event:
    return Event(id=f"e-{event_type}", type=event_type, school_id="*", occurred_at=NOW,
                 data={"backup_id": "bk1", **data})


def test_a_late_completed_does_not_undo_verified() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[backups_view])
    with engine.begin() as connection:
        apply_backup_events(connection, [event("backup.verified", {
            "ok": True, "key": "backups/all/x.kzb", "verified_at": NOW.isoformat()})])
        apply_backup_events(connection, [event("backup.completed", {
            "kind": "daily", "key": "backups/all/x.kzb", "events": 10, "bytes": 99,
            "sha256": "ab", "created_at": NOW.isoformat()})])
        row = connection.execute(select(backups_view)).one()
    engine.dispose()
    assert (row.status, row.kind, row.events, row.key) == ("verified", "daily", 10,
                                                           "backups/all/x.kzb")


def test_damaged_and_failed_are_shown() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[backups_view])
    with engine.begin() as connection:
        apply_backup_events(connection, [event("backup.completed", {"kind": "manual"}),
                                         event("backup.verified", {"ok": False,
                                                                   "problems": ["x: differs"]})])
        assert connection.execute(select(backups_view.c.status, backups_view.c.problems)
                                  ).one() == ("damaged", ["x: differs"])
        apply_backup_events(connection, [Event(id="f", type="backup.failed", school_id="s1",
                                                occurred_at=NOW, data={"backup_id": "bk2",
                                                                       "error": "disk full"})])
        failed = connection.execute(select(backups_view).where(backups_view.c.id == "bk2")).one()
    assert (failed.status, failed.scope, failed.problems) == ("failed", "s1", ["disk full"])
    engine.dispose()
