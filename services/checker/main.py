"""Entry point of the checker service (``kozomol checker``).

The consumer folds each batch of events into the checker's facts and answers
commands (finding status changes, parameters, report requests); a sweeper
thread evaluates the rules: every ``KOZOMOL_SWEEP_INTERVAL`` seconds for the
schools whose facts changed or whose next deadline passed (the deadline index
each sweep writes: deadlines are judged as they fall due, quiet school or not),
and for every school when the interval ``KOZOMOL_FULL_SWEEP_INTERVAL`` has
passed (the safety net), then makes the scheduled reports that are due.
Several checkers run side by side on one queue: per-school advisory locks in
PostgreSQL keep each school's folding and sweeping one at a time.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from services.checker.adapters.tables import inbox, outbox
from services.checker.handlers import (
    Settling,
    fold_events,
    prepare_ahead,
    refresh_statistics,
    sweep,
    under_school_locks,
    update_findings,
    update_parameters,
)
from services.checker.reporting import answer_requests, make_scheduled
from shared.background import BackgroundLoop
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.events.schemas import DATA_SCHEMAS
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.outbox import OutboxRelay
from shared.service import (
    ConsumerService,
    QueueBacklog,
    bootstrap_consumer,
    thread_publishers,
    topology_for,
)
from shared.settings import Settings

NAME = "checker"
#: The command the gateway sends (commands exchange, key "checker.finding.update").
UPDATE_COMMAND = "finding.update"
PARAMETERS_COMMAND = "rules.parameters.update"
REPORT_COMMAND = "report.request"
log = logging.getLogger(__name__)


class Sweeper:
    """The sweeping loop: rules, statistics, scheduled reports, quiet schools ahead."""

    def __init__(self, engine: Engine, settings: Settings,
                 clock: Callable[[], datetime]) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        # One broker connection for the backlog, kept by the sweeper's thread.
        self.backlog = QueueBacklog(settings, NAME)
        self.settling = Settling(settings.settle_window, backlog=self.backlog)
        self._last_full = 0.0
        self._loop = BackgroundLoop("checker-sweeper", self.tick,
                                    interval=settings.sweep_interval, wait_first=True,
                                    again_when_busy=False, on_failure=self._failed)

    def tick(self) -> None:
        full = time.monotonic() - self._last_full >= self.settings.full_sweep_interval
        refresh_statistics(self.engine, only_if_stale=True)
        # Each tick: the schools that changed and those whose next deadline
        # passed; the full sweep stays as the safety net.
        sweep(self.engine, self.clock, dirty_only=not full, due=not full,
              settling=self.settling)
        make_scheduled(self.engine, self.clock, settling=self.settling)
        # With the rest of the tick, judge quiet schools ahead of their deadlines.
        prepare_ahead(self.engine, self.clock, budget=self.settings.sweep_interval / 2)
        if full:
            self._last_full = time.monotonic()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, DBAPIError):
            log.error("sweep failed; retrying at the next interval", exc_info=exc)
        else:
            log.error("sweep failed unexpectedly; retrying at the next interval", exc_info=exc)

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()
        self.backlog.close()


def dispatcher(settings: Settings, clock: Callable[[], datetime],
               report_requested: Callable[[], None] = lambda: None) -> Dispatcher:
    """What the checker handles: the contract's entity events, and three commands.

    ``report_requested`` is called once a report was made on request, in its
    batch's transaction (someone is waiting for it: the relay looks at once)."""

    def answer_reports(connection: Connection, commands: list[Event]) -> None:
        answer_requests(connection, commands, clock())
        report_requested()

    handles = Dispatcher(NAME)
    handles.on(sorted(DATA_SCHEMAS),
               functools.partial(fold_events, settle_lag=settings.settle_lag))
    # A command changes what a sweep reconciles: one at a time per school with sweeps.
    handles.command(UPDATE_COMMAND, under_school_locks(update_findings))
    handles.command(PARAMETERS_COMMAND, under_school_locks(update_parameters))
    handles.command(REPORT_COMMAND, under_school_locks(answer_reports))
    return handles


def bootstrap(settings: Settings,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    engine = make_engine(settings.database_url_for(NAME))
    topology = topology_for(settings)
    publishers = thread_publishers(settings, topology)
    relay = OutboxRelay(engine, outbox, publishers, topology.internal.name,
                        interval=settings.outbox_relay_interval)
    service = bootstrap_consumer(settings, NAME, inbox,
                                 dispatcher(settings, clock, report_requested=relay.hurry),
                                 engine=engine)
    service.companions += [
        Sweeper(engine, settings, clock),
        relay,
        publishers,  # stopped last: closes the relay's broker connection
    ]
    return service
