"""The gateway's own consumer: the checker's events into the read models the API serves."""

from __future__ import annotations

from services.gateway.adapters.tables import inbox
from services.gateway.handlers.findings import apply_finding_events, apply_parameter_events
from services.gateway.handlers.reports import apply_report_events
from shared.service import ConsumerService, Handler, Handlers, bootstrap_consumer
from shared.settings import Settings

FINDING_EVENTS = ("finding.opened", "finding.closed", "finding.updated")


def bootstrap_read_model(settings: Settings) -> ConsumerService:
    by_type: dict[str, Handler] = dict.fromkeys(FINDING_EVENTS, apply_finding_events)
    by_type["rules.parameters.changed"] = apply_parameter_events
    by_type["report.ready"] = by_type["report.failed"] = apply_report_events
    handlers = Handlers(service="gateway", by_type=by_type)
    return bootstrap_consumer(settings, "gateway", inbox, handlers)
