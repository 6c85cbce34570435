"""Entry point of the checker service (``kozomol checker``).

It already consumes its queue exactly once per event (inbox); the rules of the
catalog register their handlers here as they are built.
"""

from __future__ import annotations

from services.checker.adapters.tables import inbox
from shared.service import ConsumerService, Handlers, bootstrap_consumer
from shared.settings import Settings

NAME = "checker"


def bootstrap(settings: Settings) -> ConsumerService:
    return bootstrap_consumer(settings, NAME, inbox, Handlers(service=NAME))
