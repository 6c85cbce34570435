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
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from services.checker.adapters.tables import inbox, outbox
from services.checker.handlers import (
    Settling,
    prepare_ahead,
    refresh_statistics,
    sweep,
    take_events,
    update_findings,
    update_parameters,
)
from services.checker.reporting import answer_requests, make_scheduled
from shared.events.envelope import Event
from shared.messaging.outbox import OutboxRelay
from shared.messaging.publisher import ThreadPublishers, make_publisher
from shared.service import (
    ConsumerService,
    Handlers,
    bootstrap_consumer,
    queue_backlog,
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
    def __init__(self, service: ConsumerService, settings: Settings,
                 clock: Callable[[], datetime]) -> None:
        self.service, self.settings, self.clock = service, settings, clock
        self.settling = Settling(settings.settle_window,
                                 backlog=lambda: queue_backlog(settings, NAME))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        last_full = 0.0
        while not self._stop.wait(self.settings.sweep_interval):
            full = time.monotonic() - last_full >= self.settings.full_sweep_interval
            try:
                refresh_statistics(self.service.engine, only_if_stale=True)
                # Each tick: the schools that changed and those whose next deadline
                # passed; the full sweep stays as the safety net.
                sweep(self.service.engine, self.clock, dirty_only=not full, due=not full,
                      settling=self.settling)
                make_scheduled(self.service.engine, self.clock, settling=self.settling)
                # With the rest of the tick, judge quiet schools ahead of their deadlines.
                prepare_ahead(self.service.engine, self.clock,
                              budget=self.settings.sweep_interval / 2)
                if full:
                    last_full = time.monotonic()
            except DBAPIError:
                log.exception("sweep failed; retrying at the next interval")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="checker-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)


def bootstrap(settings: Settings,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    topology = topology_for(settings)
    publishers = ThreadPublishers(lambda: make_publisher(
        settings.broker_url, topology, connect_timeout=settings.broker_connect_timeout,
        confirm_timeout=settings.publish_timeout))
    handlers = Handlers(service=NAME,
                        catch_all=functools.partial(take_events, settle_lag=settings.settle_lag),
                        by_type={UPDATE_COMMAND: update_findings,
                                 PARAMETERS_COMMAND: update_parameters})
    service = bootstrap_consumer(settings, NAME, inbox, handlers)
    relay = OutboxRelay(service.engine, outbox, publishers, topology.internal.name,
                        interval=settings.outbox_relay_interval)

    def answer_reports(connection: Connection, commands: list[Event]) -> None:
        answer_requests(connection, commands, clock())
        relay.hurry()  # someone is waiting for this report: relay it at once

    handlers.by_type[REPORT_COMMAND] = answer_reports  # it needs the relay made above
    service.companions += [
        Sweeper(service, settings, clock),
        relay,
        publishers,  # stopped last: closes the relay's broker connection
    ]
    return service
