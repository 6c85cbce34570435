"""The gateway's own consumer: finding events into the read model the API serves."""

from __future__ import annotations

from services.gateway.adapters.tables import inbox
from services.gateway.handlers.findings import apply_finding_events
from shared.service import ConsumerService, Handlers, bootstrap_consumer
from shared.settings import Settings

FINDING_EVENTS = ("finding.opened", "finding.closed", "finding.updated")


def bootstrap_read_model(settings: Settings) -> ConsumerService:
    handlers = Handlers(service="gateway",
                        by_type=dict.fromkeys(FINDING_EVENTS, apply_finding_events))
    return bootstrap_consumer(settings, "gateway", inbox, handlers)
