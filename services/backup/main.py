"""Entry point of the backup service (``kozomol backup``)."""

from __future__ import annotations

from services.backup.adapters import journal_store
from services.backup.adapters.tables import inbox
from shared.service import ConsumerService, Handlers, bootstrap_consumer
from shared.settings import Settings

NAME = "backup"


def bootstrap(settings: Settings) -> ConsumerService:
    # Every event, known type or not, enters the journal record.
    handlers = Handlers(service=NAME, catch_all=journal_store.append)
    return bootstrap_consumer(settings, NAME, inbox, handlers)
