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
from collections.abc import Callable
from datetime import UTC, datetime

from services.notifier.adapters.channels import Channels
from services.notifier.adapters.tables import inbox, outbox
from services.notifier.handlers import Notifier, fold_events
from shared.background import BackgroundLoop
from shared.db.engine import make_engine
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.outbox import OutboxRelay
from shared.messaging.topology import NOTIFIER_FOLDS
from shared.service import ConsumerService, bootstrap_consumer, thread_publishers, topology_for
from shared.settings import Settings

NAME = "notifier"
log = logging.getLogger(__name__)


def dispatcher() -> Dispatcher:
    """What the notifier folds: people, calendar, lessons and marks, the findings, the
    deadlines' parameters and the scheduled reports. It obeys no commands."""
    handles = Dispatcher(NAME)
    handles.on((*NOTIFIER_FOLDS, "finding.*", "rules.parameters.changed", "report.ready"),
               fold_events)
    return handles


def bootstrap(settings: Settings,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ConsumerService:
    engine = make_engine(settings.database_url_for(NAME))
    topology = topology_for(settings)
    publishers = thread_publishers(settings, topology)
    notifier = Notifier(engine, settings, Channels(settings), clock)
    service = bootstrap_consumer(settings, NAME, inbox, dispatcher(), engine=engine)
    service.companions += [
        BackgroundLoop("notifier-planner", notifier.plan,
                       interval=settings.notifier_plan_interval),
        BackgroundLoop("notifier-sender", notifier.send_due,
                       interval=settings.notifier_send_interval),
        OutboxRelay(engine, outbox, publishers, topology.internal.name,
                    interval=settings.outbox_relay_interval),
        publishers,  # stopped last: closes the relay's broker connection
    ]
    return service
