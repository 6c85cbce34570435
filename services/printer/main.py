"""Entry point of the printer service (``kozomol printer``).

It already consumes its queue exactly once per event (inbox); print jobs and
report renderers register their handlers here as they are built.
"""

from __future__ import annotations

from services.printer.adapters.tables import inbox
from shared.service import ConsumerService, Handlers, bootstrap_consumer
from shared.settings import Settings

NAME = "printer"


def bootstrap(settings: Settings) -> ConsumerService:
    return bootstrap_consumer(settings, NAME, inbox, Handlers(service=NAME))
