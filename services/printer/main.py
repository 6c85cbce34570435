"""Entry point of the printer service (``kozomol printer``).

The consumer copies the journal data the printer needs from the contract and
finding events, keeps every ``report.ready``, and runs print jobs (the
``print.request`` command); ``print.completed`` / ``print.failed`` leave
through the outbox relay. Several printers can consume the same queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from services.printer.adapters.tables import inbox, outbox
from services.printer.handlers import Printer, take_events
from shared.messaging.outbox import OutboxRelay
from shared.messaging.publisher import ThreadPublishers, make_publisher
from shared.service import ConsumerService, Handlers, bootstrap_consumer, topology_for
from shared.settings import Settings
from shared.storage import open_store

NAME = "printer"
#: The command the gateway sends (commands exchange, key "printer.print.request").
PRINT_COMMAND = "print.request"


def bootstrap(settings: Settings,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    printer = Printer(open_store(settings.files_url), settings.font_dir, clock)
    handlers = Handlers(service=NAME, catch_all=take_events,
                        by_type={PRINT_COMMAND: printer.print_requests,
                                 "report.ready": printer.keep_reports})
    service = bootstrap_consumer(settings, NAME, inbox, handlers)
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
