"""Entry point of the printer service (``kozomol printer``).

The consumer copies the journal data the printer needs from the contract and
finding events, keeps every ``report.ready``, and runs print jobs (the
``print.request`` command); ``print.completed`` / ``print.failed`` leave
through the outbox relay. Several printers can consume the same queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.printer.adapters.announce import announce
from services.printer.adapters.tables import inbox, outbox
from services.printer.handlers import Printer, Progress, copy_events
from shared.db.engine import is_postgresql, make_engine
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.outbox import OutboxRelay
from shared.messaging.topology import PRINTER_COPIES
from shared.service import ConsumerService, bootstrap_consumer, thread_publishers, topology_for
from shared.settings import Settings
from shared.storage import open_store

log = logging.getLogger(__name__)

NAME = "printer"
#: The command the gateway sends (commands exchange, key "printer.print.request").
PRINT_COMMAND = "print.request"


def progress_announcer(engine: Engine, clock: Callable[[], datetime]) -> Progress:
    """Announce a batch's progress (``print.progress``) in a transaction of its own, beside
    the batch's, so the API shows it while the batch prints. PostgreSQL only: on SQLite the
    batch's transaction holds the one write lock, and this would wait on it. A progress
    event of a batch later rolled back (a crash) is harmless: the job is done again."""

    def progress(school_id: str, job_id: str, done: int, total: int) -> None:
        try:
            with engine.begin() as connection:
                announce(connection, "print.progress", school_id,
                         {"job_id": job_id, "done": done, "total": total}, clock())
        except SQLAlchemyError:  # progress is a courtesy; the job goes on without it
            log.warning("print progress not announced", extra={"job_id": job_id})

    return progress


def dispatcher(printer: Printer) -> Dispatcher:
    """What the printer handles: its copy of the journal, the findings (remarks sheet),
    the checker's reports, and print jobs."""
    handles = Dispatcher(NAME)
    handles.on((*PRINTER_COPIES, "finding.*"), copy_events)
    handles.on("report.ready", printer.keep_reports)
    handles.command(PRINT_COMMAND, printer.print_requests)
    return handles


def bootstrap(settings: Settings,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    engine = make_engine(settings.database_url_for(NAME))
    topology = topology_for(settings)
    publishers = thread_publishers(settings, topology)
    printer = Printer(open_store(settings.files_url), settings.font_dir, clock)
    if is_postgresql(engine):
        printer.progress = progress_announcer(engine, clock)
    service = bootstrap_consumer(settings, NAME, inbox, dispatcher(printer), engine=engine)
    service.companions += [
        OutboxRelay(engine, outbox, publishers, topology.internal.name,
                    interval=settings.outbox_relay_interval),
        publishers,  # stopped last: closes the relay's broker connection
    ]
    return service
