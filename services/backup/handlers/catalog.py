"""The catalog of backups: requests, slots, listings."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from services.backup.adapters.tables import (
    backups,
)
from shared.db.inserts import conflict_insert
from shared.events.messages import (
    new_backup_id,
)

log = logging.getLogger(__name__)


def claim_slot(engine: Engine, scope: str, kind: str, slot: str, now: datetime) -> str | None:
    """Insert the row of a scheduled slot; None if another instance has it already."""
    backup_id = new_backup_id()
    statement = conflict_insert(engine, backups).values(
        id=backup_id, scope=scope, kind=kind, slot=slot, status="running",
        requested_by="schedule", requested_at=now,
    ).on_conflict_do_nothing(index_elements=["scope", "slot"]).returning(backups.c.id)
    with engine.begin() as connection:
        return connection.execute(statement).scalar()


def create_request(engine: Engine, scope: str, kind: str, requested_by: str,
                   now: datetime, *, status: str = "running") -> str:
    backup_id = new_backup_id()
    with engine.begin() as connection:
        connection.execute(insert(backups).values(
            id=backup_id, scope=scope, kind=kind, status=status, requested_by=requested_by,
            requested_at=now))
    return backup_id


def claim_requested(engine: Engine) -> list[str]:
    """Requests from the API; each is claimed by one instance (status requested → running)."""
    claimed = []
    with engine.connect() as connection:
        ids = connection.execute(select(backups.c.id).where(backups.c.status == "requested")
                                 .order_by(backups.c.requested_at)).scalars().all()
    for backup_id in ids:
        with engine.begin() as connection:
            if connection.execute(update(backups).where(
                    backups.c.id == backup_id, backups.c.status == "requested")
                    .values(status="running")).rowcount == 1:
                claimed.append(backup_id)
    return claimed


def list_backups(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(
            select(backups).order_by(backups.c.requested_at.desc()))]


def find_backup(engine: Engine, backup_id_or_key: str) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(backups).where(
            (backups.c.id == backup_id_or_key) | (backups.c.key == backup_id_or_key))).first()
    return dict(row._mapping) if row else None


def latest_backup(engine: Engine) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(backups).where(backups.c.key.is_not(None))
                                 .order_by(backups.c.created_at.desc())).first()
    return dict(row._mapping) if row else None
