"""Pruning backups by the retention policy."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select, update

from services.backup.adapters.announce import announce
from services.backup.adapters.tables import (
    backups,
)
from services.backup.domain.retention import StoredBackup, to_prune
from services.backup.handlers.context import BackupContext

log = logging.getLogger(__name__)


def prune(ctx: BackupContext, dry_run: bool = False) -> list[str]:
    """Delete the archives the retention policy lets go; their rows stay, marked pruned."""
    with ctx.engine.connect() as connection:
        rows = connection.execute(select(backups).where(
            backups.c.status.in_(("completed", "verified")),
            backups.c.created_at.is_not(None))).all()
    stored = [StoredBackup(r.id, r.scope, r.kind, _aware(r.created_at), r.status == "verified")
              for r in rows]
    doomed = to_prune(stored, ctx.retention)
    keys = {r.id: r.key for r in rows}
    if dry_run:
        return sorted(doomed)
    scopes = {r.id: r.scope for r in rows}
    for backup_id in sorted(doomed):
        if keys[backup_id]:
            ctx.archives.delete(keys[backup_id])
        now = datetime.now(UTC)
        with ctx.engine.begin() as connection:
            connection.execute(update(backups).where(backups.c.id == backup_id)
                               .values(status="pruned"))
            # the API's listing learns it too: no longer "verified", its key gone
            announce(connection, "backup.pruned", scopes[backup_id],
                      {"backup_id": backup_id, "key": keys[backup_id],
                       "pruned_at": now.isoformat()}, now)
    if doomed:
        log.info("pruned backups", extra={"count": len(doomed)})
    return sorted(doomed)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
