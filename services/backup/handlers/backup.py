"""Making a backup: write the archive, verify it, prune."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
from sqlalchemy import select, update

from services.backup.adapters import kept_tables
from services.backup.adapters.announce import announce
from services.backup.adapters.archive_io import (
    manifest_for,
    pack_to,
    write_members,
)
from services.backup.adapters.tables import (
    backups,
)
from services.backup.domain.archive import (
    Manifest,
    archive_key,
)
from services.backup.domain.retention import FOREVER
from services.backup.handlers.context import BackupContext, scratch
from services.backup.handlers.retention import prune
from services.backup.handlers.verify import verify

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    backup_id: str
    key: str | None
    status: str
    events: int = 0
    bytes: int = 0
    manifest: Manifest | None = None
    problems: list[str] = field(default_factory=list)


def make_backup(ctx: BackupContext, backup_id: str) -> Outcome:
    """Write, store and verify the backup of a catalog row; announce the result."""
    with ctx.engine.connect() as connection:
        row = connection.execute(select(backups).where(backups.c.id == backup_id)).one()
    try:
        outcome = write_backup(ctx, backup_id, row.scope, row.kind)
    except Exception as exc:
        log.exception("backup failed", extra={"backup_id": backup_id})
        now = ctx.clock()
        with ctx.engine.begin() as connection:
            connection.execute(update(backups).where(backups.c.id == backup_id)
                               .values(status="failed", error=str(exc)[:2000]))
            announce(connection, "backup.failed", row.scope,
                      {"backup_id": backup_id, "kind": row.kind, "error": str(exc)[:500]}, now)
        return Outcome(backup_id, None, "failed", problems=[str(exc)])
    trial = needs_trial_restore(ctx, row.scope, row.kind)
    verification = verify(ctx, outcome.key or "", expected=outcome.manifest,
                          trial_restore=trial)
    now = ctx.clock()
    status = "verified" if verification.ok else "damaged"
    with ctx.engine.begin() as connection:
        connection.execute(update(backups).where(backups.c.id == backup_id).values(
            status=status, verified_at=now,
            restored_at=now if trial and verification.ok else None,
            error="; ".join(verification.problems)[:2000] or None))
        announce(connection, "backup.verified", row.scope, {
            "backup_id": backup_id, "key": outcome.key, "ok": verification.ok,
            "problems": verification.problems[:20], "verified_at": now.isoformat(),
            "trial_restore": trial}, now)
    outcome.status, outcome.problems = status, verification.problems
    if verification.ok:
        prune(ctx)
    elif ctx.kept_tables is not None:
        # the archive made from the kept state did not verify: the next folds anew
        kept_tables.forget(ctx.kept_tables, row.scope)
    return outcome


def needs_trial_restore(ctx: BackupContext, scope: str, kind: str) -> bool:
    """One full trial restore per retention cycle and scope: when no backup of the
    scope was proved by one within the daily retention window (the oldest daily
    backup kept), and for every backup kept for good (half-year, year end)."""
    if kind in FOREVER:
        return True
    since = ctx.clock() - timedelta(days=max(1, ctx.retention.daily))
    with ctx.engine.connect() as connection:
        proved = connection.execute(select(backups.c.id).where(
            backups.c.scope == scope, backups.c.restored_at.is_not(None),
            backups.c.restored_at > since).limit(1)).first()
    return proved is None


def write_backup(ctx: BackupContext, backup_id: str, scope: str, kind: str) -> Outcome:
    """Write and store the archive (no verification); the catalog row becomes completed.

    Streamed: the journal from a server-side cursor into members in a scratch
    folder, the archive sealed chunk by chunk into a scratch file, stored in parts.
    """
    created_at = ctx.clock()
    key = archive_key(scope, kind, created_at, backup_id)
    with scratch(ctx) as folder:
        with ctx.engine.connect() as connection:
            members = write_members(connection, scope, ctx.files, folder / "members",
                                    ctx.progress, kept=ctx.kept_tables)
        try:
            manifest = manifest_for(backup_id, scope, kind, created_at, members)
            size, digest = pack_to(members, manifest, folder / "archive.kzb", ctx.key)
            ctx.archives.put_file(key, folder / "archive.kzb")
            members.keep()  # the next backup of the scope goes on from here
        finally:
            members.discard()
    events = int(manifest.counts["events"])
    with ctx.engine.begin() as connection:
        connection.execute(update(backups).where(backups.c.id == backup_id).values(
            status="completed", key=key, created_at=created_at, events=events,
            bytes=size, sha256=digest,
            members=orjson.dumps(manifest.checksums).decode(),
            last_seq=manifest.chain.get("last_seq"), head_hash=manifest.chain.get("head")))
        announce(connection, "backup.completed", scope, {
            "backup_id": backup_id, "kind": kind, "key": key, "events": events,
            "bytes": size, "sha256": digest, "created_at": created_at.isoformat(),
            "time_range": manifest.time_range}, created_at)
    return Outcome(backup_id, key, "completed", events, size, manifest)
