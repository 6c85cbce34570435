"""``kozomol backup …``: run the backup service, or make, check and restore backups.

Run bare it is the service (consumer + scheduler). The subcommands work on the
backup service's database and the backup store directly, so they also serve
when the service is down (restore, above all).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kozomol.cli_common import cli_settings, consumer_command
from shared.settings import SERVICES, Settings

if TYPE_CHECKING:
    from services.backup.handlers import BackupContext


def _settings() -> Settings:
    return cli_settings()


@contextmanager
def _context(settings: Settings) -> Iterator[BackupContext]:
    """The backup use cases' context; its database connections are closed after."""
    from services.backup.main import NAME, context_for
    from shared.db.migrations import upgrade

    if settings.embedded_broker:
        upgrade(settings.database_url_for(NAME), NAME, SERVICES)
    context = context_for(settings)
    context.progress = lambda what, count: click.echo(f"  {what}: {count:,}", err=True)
    try:
        yield context
    finally:
        context.engine.dispose()


@click.group(invoke_without_command=True)
@click.pass_context
def backup(context: click.Context) -> None:
    """Run the backup service alone (journal record, scheduled backups, archive registry)."""
    if context.invoked_subcommand is None:
        context.invoke(consumer_command("backup"))


@backup.command("create")
@click.option("--school", "scope", default="*", show_default=True,
              help="One school's id, or * for every school.")
@click.option("--kind", type=click.Choice(["manual", "daily", "half_year", "year_end"]),
              default="manual", show_default=True)
def backup_create(scope: str, kind: str) -> None:
    """Make a backup now, store it and verify it (exit status 1 if it does not verify)."""
    from services.backup.handlers import create_request, make_backup

    with _context(_settings()) as ctx:
        backup_id = create_request(ctx.engine, scope, kind, "cli", ctx.clock())
        outcome = make_backup(ctx, backup_id)
    click.echo(f"{outcome.backup_id} {outcome.status} {outcome.key or ''} "
               f"events={outcome.events} bytes={outcome.bytes}")
    for problem in outcome.problems:
        click.echo(f"  problem: {problem}", err=True)
    if outcome.status != "verified":
        sys.exit(1)


@backup.command("run-due")
def backup_run_due() -> None:
    """One scheduler pass, then exit: the backups due by the schedules (each slot
    once across all instances) and those requested through the API."""
    from services.backup.main import Scheduler

    settings = _settings()
    with _context(settings) as ctx:
        made = Scheduler(ctx, settings).tick()
    click.echo(f"{len(made)} backup(s) made" + (f": {' '.join(made)}" if made else ""))


@backup.command("verify")
@click.argument("archive", required=False)
def backup_verify(archive: str | None) -> None:
    """Check an archive (key or backup id; the newest by default): decryption,
    checksums and a trial restore into a scratch database."""
    from services.backup.handlers import verify

    with _context(_settings()) as ctx:
        key = _archive_key(ctx, archive)
        result = verify(ctx, key)
    if result.ok:
        click.echo(f"OK {key}: {result.events:,} events, "
                   f"{len(result.manifest.members) if result.manifest else 0} members verified")
        return
    click.echo(f"DAMAGED {key}", err=True)
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


def _archive_key(ctx: BackupContext, archive: str | None) -> str:
    from services.backup.handlers import find_backup, latest_backup

    if archive is None:
        row = latest_backup(ctx.engine)
        if row is None:
            raise click.ClickException("no backup has been made yet; name an archive key")
        return str(row["key"])
    row = find_backup(ctx.engine, archive)
    if row is not None and row.get("key"):
        return str(row["key"])
    return archive  # a key in the store (the catalog may be gone)


@backup.command("restore")
@click.argument("archive")
@click.option("--database-url", default=None,
              help="Restore into this (empty) database; default: the backup service's own.")
@click.option("--replay", is_flag=True,
              help="Afterwards send every restored event again, so the other services rebuild.")
@click.option("--files/--no-files", "restore_files", default=True, show_default=True,
              help="Put the archive's PDFs back into the file store where missing.")
def backup_restore(archive: str, database_url: str | None, replay: bool,
                   restore_files: bool) -> None:
    """Restore an archive (key in the store) into an empty database."""
    from services.backup.domain.archive import ArchiveDamaged
    from services.backup.handlers import RestoreRefused, restore
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade

    settings = _settings()
    url = database_url or settings.database_url_for("backup")
    upgrade(url, "backup", SERVICES)
    target = make_engine(url)
    try:
        with _context(settings) as ctx:
            result = restore(ctx, archive, target, ctx.files if restore_files else None)
        click.echo(f"restored {result.events:,} events (chain head {result.head}), "
                   f"{result.registry_entries} archive registry entries")
        if replay:
            sent = _replay(settings, target)
            click.echo(f"replayed {sent:,} events to {settings.namespace}.events "
                       f"and {settings.namespace}.internal")
    except (ArchiveDamaged, RestoreRefused) as exc:
        raise click.ClickException(f"not restored: {exc}") from exc
    finally:
        target.dispose()


def _replay(settings: Settings, engine: Any) -> int:
    from services.backup.handlers import replay
    from shared.messaging.publisher import OutgoingMessage, make_publisher
    from shared.service import topology_for

    topology = topology_for(settings)
    publisher = make_publisher(settings.broker_url, topology,
                               connect_timeout=settings.broker_connect_timeout,
                               confirm_timeout=max(settings.publish_timeout, 30))
    try:
        return replay(engine, lambda batch: publisher.publish([
            OutgoingMessage(topology.exchange_for(key).name, key, body, event_id,
                            {"school_id": school})
            for key, body, event_id, school in batch]))
    finally:
        publisher.close()


@backup.command("list")
@click.option("--store", "from_store", is_flag=True,
              help="List the archives in the store instead of the catalog.")
def backup_list(from_store: bool) -> None:
    """The backups made (newest first), or the archive files in the store."""
    from services.backup.handlers import list_backups

    with _context(_settings()) as ctx:
        if from_store:
            for key in ctx.archives.keys("backups/"):
                click.echo(key)
            return
        for row in list_backups(ctx.engine):
            created = row["created_at"].isoformat() if row["created_at"] else "-"
            click.echo(f"{row['id']}  {row['scope']:<10} {row['kind']:<9} {row['status']:<9} "
                       f"{created}  events={row['events'] or 0}  {row['key'] or ''}")


@backup.command("prune")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
def backup_prune(dry_run: bool) -> None:
    """Apply the retention policy (KOZOMOL_BACKUP_KEEP_DAILY / _MONTHLY)."""
    from services.backup.handlers import prune

    with _context(_settings()) as ctx:
        for backup_id in prune(ctx, dry_run=dry_run):
            click.echo(("would prune " if dry_run else "pruned ") + backup_id)


@backup.command("key")
def backup_key_command() -> None:
    """Print a new random backup key (for KOZOMOL_BACKUP_KEY)."""
    from services.backup.adapters.crypto import new_key

    click.echo(new_key())


@backup.command("year-end")
@click.option("--school", "school_id", required=True)
@click.option("--year", "academic_year", required=True, help="e.g. 2026-2027")
@click.option("--by", "responsible", required=True, help="Who is responsible (name, post).")
def backup_year_end(school_id: str, academic_year: str, responsible: str) -> None:
    """Ask the printer for every class journal of the year; each is entered in the
    archive registry when printed (the running backup service sends the requests)."""
    from services.backup.handlers import request_class_journals

    with _context(_settings()) as ctx, ctx.engine.begin() as connection:
        jobs = request_class_journals(connection, school_id, academic_year, responsible,
                                      ctx.clock())
    click.echo(f"{len(jobs)} class journal(s) sent to the printer")


@backup.command("registry")
@click.option("--school", "school_id", default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text")
def backup_registry(school_id: str | None, fmt: str) -> None:
    """The year-end archive registry."""
    import csv

    from services.backup.domain.registry import COLUMNS_RU
    from services.backup.handlers import registry

    with _context(_settings()) as ctx, ctx.engine.connect() as connection:
        entries = registry(connection, school_id)
    writer = csv.writer(sys.stdout, delimiter="," if fmt == "csv" else "\t")
    writer.writerow(("Школа", *COLUMNS_RU))
    for entry in entries:
        writer.writerow((entry.school_id, *entry.row_ru()))


@backup.command("export-class")
@click.argument("class_id")
@click.option("--school", "school_id", required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def backup_export_class(class_id: str, school_id: str, fmt: str, output: Path) -> None:
    """A class journal for the class teacher to archive (clause 4.2), from the journal record."""
    from services.backup.handlers import export_class_journal

    with _context(_settings()) as ctx, ctx.engine.connect() as connection:
        body = export_class_journal(connection, school_id, class_id, fmt)
    output.write_bytes(body)
    click.echo(f"wrote {output} ({len(body):,} bytes)")
