"""Entry point of the backup service (``kozomol backup``).

The consumer appends every event to the journal record and takes commands
(``backup.create``, ``archive.year_end``) and ``print.completed``; a scheduler
thread makes the scheduled and requested backups (each verified, then pruned
by the retention policy); two outbox relays send its events
(``backup.*``, ``archive.registered``) and its commands to the printer.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from services.backup.adapters.archive_io import journal_is_empty, journal_schools
from services.backup.adapters.crypto import new_key, parse_key
from services.backup.adapters.tables import command_outbox, inbox, outbox
from services.backup.domain.retention import Retention
from services.backup.domain.schedule import Schedule, due_slots
from services.backup.handlers import (
    CREATE_COMMAND,
    PRINT_COMPLETED,
    PRINT_FAILED,
    YEAR_END_COMMAND,
    BackupContext,
    claim_requested,
    claim_slot,
    forget_failed_prints,
    make_backup,
    register_printed,
    request_backups,
    start_year_end,
    take_events,
)
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.events.messages import ALL_SCHOOLS
from shared.messaging.outbox import OutboxRelay
from shared.messaging.publisher import ThreadPublishers, make_publisher
from shared.pacing import Pace
from shared.service import ConsumerService, Handlers, bootstrap_consumer, topology_for
from shared.settings import Settings, SettingsError
from shared.storage import open_store

NAME = "backup"
log = logging.getLogger(__name__)


def backup_key(settings: Settings) -> bytes:
    """The configured key; the embedded default generates one in the data folder."""
    if settings.backup_key:
        return parse_key(settings.backup_key)
    if not settings.embedded_broker:
        raise SettingsError("KOZOMOL_BACKUP_KEY is required when a real broker is used")
    path = settings.data_dir / "backup-key"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key() + "\n")
        log.warning("generated a backup key; keep a copy elsewhere: without it the backups "
                    "cannot be read", extra={"path": str(path)})
    return parse_key(path.read_text())


def context_for(settings: Settings, engine: Engine | None = None,
                clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> BackupContext:
    return BackupContext(
        engine=engine or make_engine(settings.database_url_for(NAME)),
        archives=open_store(settings.backups_url), files=open_store(settings.files_url),
        key=backup_key(settings),
        retention=Retention(settings.backup_keep_daily, settings.backup_keep_monthly),
        clock=clock, kept_tables=settings.data_dir / "backup-tables")


def schedules(settings: Settings) -> list[Schedule]:
    found = []
    if settings.backup_schedule:
        found.append(Schedule("daily", settings.backup_schedule))
    if settings.backup_half_year_schedule:
        found.append(Schedule("half_year", settings.backup_half_year_schedule))
    return found


@dataclass
class Scheduler:
    """Makes the backups that are due: the latest tick of each schedule (once per
    slot across all instances: the slot row is unique) and requested ones."""

    context: BackupContext
    settings: Settings

    def __post_init__(self) -> None:
        self._pace = Pace(self.settings.backup_check_interval, quick=0.2)
        self._thread: threading.Thread | None = None

    def hurry(self, seconds: float = 5.0) -> None:
        """A backup was just requested: look for it every 0.2 s for ``seconds``."""
        self._pace.hurry(seconds)

    def tick(self, *, scheduled: bool = True) -> list[str]:
        """One pass (requested backups only, unless ``scheduled``); the ids it made."""
        made = []
        now = self.context.clock()
        with self.context.engine.connect() as connection:
            if not scheduled or journal_is_empty(connection):
                due = []  # nothing to back up yet; the slot stays due
            else:
                due = due_slots(schedules(self.settings), now, self.settings.backup_timezone)
            scopes = journal_schools(connection) if due and \
                self.settings.backup_scope == "schools" else [ALL_SCHOOLS]
        for kind, slot, _ in due:
            for scope in scopes:  # the slot is claimed per scope: one backup each
                backup_id = claim_slot(self.context.engine, scope, kind, slot, now)
                if backup_id is not None:
                    log.info("scheduled backup", extra={"slot": slot, "scope": scope,
                                                        "backup_id": backup_id})
                    make_backup(self.context, backup_id)
                    made.append(backup_id)
        for backup_id in claim_requested(self.context.engine):
            make_backup(self.context, backup_id)
            made.append(backup_id)
        return made

    def run(self) -> None:
        next_scheduled = 0.0
        while not self._pace.stopped.is_set():
            # A request wakes the scheduler for itself only; schedules are looked at
            # every check interval.
            scheduled = time.monotonic() >= next_scheduled
            if scheduled:
                next_scheduled = time.monotonic() + self.settings.backup_check_interval
            try:
                self.tick(scheduled=scheduled)
            except Exception:  # the thread must outlive any one failed pass
                log.exception("backup scheduler pass failed; retrying at the next interval")
            self._pace.wait()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="backup-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._pace.stop()
        if self._thread is not None:
            self._thread.join(60)


def bootstrap(settings: Settings, *, scheduler: bool = True,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    # Every event, known type or not, enters the journal record.
    handlers = Handlers(service=NAME, catch_all=take_events, by_type={
        CREATE_COMMAND: request_backups, YEAR_END_COMMAND: start_year_end,
        PRINT_COMPLETED: register_printed, PRINT_FAILED: forget_failed_prints})
    service = bootstrap_consumer(settings, NAME, inbox, handlers)
    topology = topology_for(settings)
    publishers = ThreadPublishers(lambda: make_publisher(
        settings.broker_url, topology, connect_timeout=settings.broker_connect_timeout,
        confirm_timeout=settings.publish_timeout))
    if scheduler:
        try:
            context = context_for(settings, service.engine, clock)
        except (SettingsError, ValueError) as exc:
            # The journal record must keep running; backups wait for a key.
            log.error("backups are disabled: %s", exc)
        else:
            backup_scheduler = Scheduler(context, settings)
            service.companions.append(backup_scheduler)

            def backups_requested(connection: Connection, commands: list[Event]) -> None:
                request_backups(connection, commands)
                backup_scheduler.hurry()  # someone waits: now, not at the next interval

            handlers.by_type[CREATE_COMMAND] = backups_requested
    service.companions += [
        OutboxRelay(service.engine, outbox, publishers, topology.internal.name,
                    interval=settings.outbox_relay_interval),
        OutboxRelay(service.engine, command_outbox, publishers, topology.commands.name,
                    interval=settings.outbox_relay_interval),
        publishers,  # stopped last: closes the relays' broker connection
    ]
    return service
