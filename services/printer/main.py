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

from services.printer.adapters.tables import inbox, outbox
from services.printer.handlers import Printer, Progress, take_events
from shared.db.engine import is_postgresql
from shared.events.envelope import new_envelope
from shared.messaging.outbox import OutboxRelay, add_to_outbox
from shared.messaging.publisher import ThreadPublishers, make_publisher
from shared.service import ConsumerService, Handlers, bootstrap_consumer, topology_for
from shared.settings import Settings
from shared.storage import open_store

log = logging.getLogger(__name__)

NAME = "printer"
#: The command the gateway sends (commands exchange, key "printer.print.request").
PRINT_COMMAND = "print.request"


def progress_announcer(engine: Engine) -> Progress:
    """Announce a batch's progress (``print.progress``) in a transaction of its own, beside
    the batch's, so the API shows it while the batch prints. PostgreSQL only: on SQLite the
    batch's transaction holds the one write lock, and this would wait on it. A progress
    event of a batch later rolled back (a crash) is harmless: the job is done again."""

    def announce(school_id: str, job_id: str, done: int, total: int) -> None:
        now = datetime.now(UTC)
        try:
            with engine.begin() as connection:
                add_to_outbox(connection, outbox, [new_envelope(
                    "prn", "print.progress", school_id,
                    {"job_id": job_id, "done": done, "total": total}, now)], now)
        except SQLAlchemyError:  # progress is a courtesy; the job goes on without it
            log.warning("print progress not announced", extra={"job_id": job_id})

    return announce


def bootstrap(settings: Settings,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    printer = Printer(open_store(settings.files_url), settings.font_dir, clock)
    handlers = Handlers(service=NAME, catch_all=take_events,
                        by_type={PRINT_COMMAND: printer.print_requests,
                                 "report.ready": printer.keep_reports})
    service = bootstrap_consumer(settings, NAME, inbox, handlers)
    if is_postgresql(service.engine):
        printer.progress = progress_announcer(service.engine)
    topology = topology_for(settings)
    publishers = ThreadPublishers(lambda: make_publisher(
        settings.broker_url, topology, connect_timeout=settings.broker_connect_timeout,
        confirm_timeout=settings.publish_timeout))
    service.companions += [
        OutboxRelay(service.engine, outbox, publishers, topology.internal.name,
                    interval=settings.outbox_relay_interval),
        publishers,  # stopped last: closes the relay's broker connection
    ]
    return service
