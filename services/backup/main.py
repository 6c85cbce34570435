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
    append_to_journal,
    claim_requested,
    claim_slot,
    forget_failed_prints,
    make_backup,
    register_printed,
    request_backups,
    start_year_end,
)
from shared.background import BackgroundLoop
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.events.messages import ALL_SCHOOLS
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.outbox import OutboxRelay
from shared.service import ConsumerService, bootstrap_consumer, thread_publishers, topology_for
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
        clock=clock)


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
        self._next_scheduled = 0.0
        self._loop = BackgroundLoop("backup-scheduler", self._pass,
                                    interval=self.settings.backup_check_interval, quick=0.2,
                                    again_when_busy=False, join_timeout=60)

    def hurry(self, seconds: float = 5.0) -> None:
        """A backup was just requested: look for it every 0.2 s for ``seconds``."""
        self._loop.hurry(seconds)

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

    def _pass(self) -> None:
        # A request wakes the scheduler for itself only; schedules are looked at
        # every check interval.
        scheduled = time.monotonic() >= self._next_scheduled
        if scheduled:
            self._next_scheduled = time.monotonic() + self.settings.backup_check_interval
        self.tick(scheduled=scheduled)

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()


def dispatcher(backups_requested: Callable[[], None] = lambda: None) -> Dispatcher:
    """What the backup service handles: every event (the journal record), the printer's
    answers for the archive registry, and its two commands.

    ``backups_requested`` is called after a batch's backup requests are recorded
    (the scheduler looks for them at once rather than at its next interval)."""

    def request_and_tell(connection: Connection, commands: list[Event]) -> None:
        request_backups(connection, commands)
        backups_requested()

    handles = Dispatcher(NAME)
    # Every event, known type or not, enters the journal record.
    handles.on("#", append_to_journal)
    handles.on(PRINT_COMPLETED, register_printed)
    handles.on(PRINT_FAILED, forget_failed_prints)
    handles.command(CREATE_COMMAND, request_and_tell)
    handles.command(YEAR_END_COMMAND, start_year_end)
    return handles


def bootstrap(settings: Settings, *, scheduler: bool = True,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    engine = make_engine(settings.database_url_for(NAME))
    topology = topology_for(settings)
    publishers = thread_publishers(settings, topology)
    backup_scheduler: Scheduler | None = None
    if scheduler:
        try:
            backup_scheduler = Scheduler(context_for(settings, engine, clock), settings)
        except (SettingsError, ValueError) as exc:
            # The journal record must keep running; backups wait for a key.
            log.error("backups are disabled: %s", exc)
    handles = dispatcher(backup_scheduler.hurry if backup_scheduler else lambda: None)
    service = bootstrap_consumer(settings, NAME, inbox, handles, engine=engine)
    if backup_scheduler is not None:
        service.companions.append(backup_scheduler)
    service.companions += [
        OutboxRelay(engine, outbox, publishers, topology.internal.name,
                    interval=settings.outbox_relay_interval),
        OutboxRelay(engine, command_outbox, publishers, topology.commands.name,
                    interval=settings.outbox_relay_interval),
        publishers,  # stopped last: closes the relays' broker connection
    ]
    return service
