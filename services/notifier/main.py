"""Entry point of the notifier service (``kozomol notifier``).

The consumer folds the events the notifier needs (people and their contacts,
the calendar, lessons, attendance, marks, findings, scheduled reports); a
planning loop queues the messages due at each school's send times; a sending
loop delivers them (e-mail, Telegram, the outgoing webhook) and logs every
step; the log leaves as ``notification.logged`` events through the outbox
relay. Several notifiers can share the queue and the tables.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from services.notifier.adapters.channels import Channels
from services.notifier.adapters.tables import inbox, outbox
from services.notifier.handlers import Notifier, take_events
from shared.messaging.outbox import OutboxRelay
from shared.messaging.publisher import ThreadPublishers, make_publisher
from shared.pacing import Pace
from shared.service import ConsumerService, Handlers, bootstrap_consumer, topology_for
from shared.settings import Settings

NAME = "notifier"
log = logging.getLogger(__name__)


class Loop:
    """A background thread that runs ``work`` every ``interval`` seconds (at once again
    while it reports work done)."""

    def __init__(self, name: str, work: Callable[[], int], interval: float) -> None:
        self.name, self.work = name, work
        self._pace = Pace(interval, quick=0.05)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._pace.stop()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._pace.stopped.is_set():
            try:
                busy = self.work()
            except Exception:
                log.exception("notifier loop failed; trying again", extra={"loop": self.name})
                busy = 0
            if not busy:
                self._pace.wait()


def bootstrap(settings: Settings,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    handlers = Handlers(service=NAME, catch_all=take_events)
    service = bootstrap_consumer(settings, NAME, inbox, handlers)
    notifier = Notifier(service.engine, settings, Channels(settings), clock)
    topology = topology_for(settings)
    publishers = ThreadPublishers(lambda: make_publisher(
        settings.broker_url, topology, connect_timeout=settings.broker_connect_timeout,
        confirm_timeout=settings.publish_timeout))
    service.companions += [
        Loop("notifier-planner", notifier.plan, settings.notifier_plan_interval),
        Loop("notifier-sender", notifier.send_due, settings.notifier_send_interval),
        OutboxRelay(service.engine, outbox, publishers, topology.internal.name,
                    interval=settings.outbox_relay_interval),
        publishers,  # stopped last: closes the relay's broker connection
    ]
    return service
