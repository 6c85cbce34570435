"""The gateway's own consumer: the checker's events into the read models the API serves."""

from __future__ import annotations

from typing import Any

from services.gateway.adapters.tables import inbox
from services.gateway.handlers.backups import apply_archive_events, apply_backup_events
from services.gateway.handlers.classes import apply_roster_events
from services.gateway.handlers.command_slots import FINISHING, and_free_slots
from services.gateway.handlers.findings import apply_finding_events, apply_parameter_events
from services.gateway.handlers.names import apply_name_events
from services.gateway.handlers.notifications import apply_notification_events
from services.gateway.handlers.print_jobs import apply_print_events
from services.gateway.handlers.reports import apply_report_events
from services.gateway.handlers.school_zones import apply_zone_events
from shared.service import ConsumerService, Handler, Handlers, bootstrap_consumer
from shared.settings import Settings

FINDING_EVENTS = ("finding.opened", "finding.closed", "finding.updated")
BACKUP_EVENTS = ("backup.completed", "backup.verified", "backup.failed", "backup.pruned")
#: contract events the gateway reads names from (shared/messaging/topology.py binds them)
NAMED_TYPES = ("school.calendar", "class.roster", "teacher.profile", "subject.plan")


def _both(first: Handler, second: Handler) -> Handler:
    def handle(connection: Any, events: list[Any]) -> None:
        first(connection, events)
        second(connection, events)
    return handle


def bootstrap_read_model(settings: Settings) -> ConsumerService:
    by_type: dict[str, Handler] = dict.fromkeys(FINDING_EVENTS, apply_finding_events)
    by_type["rules.parameters.changed"] = apply_parameter_events
    by_type["report.ready"] = by_type["report.failed"] = apply_report_events
    by_type["class.roster"] = _both(apply_roster_events, apply_name_events)
    by_type["school.calendar"] = _both(apply_name_events, apply_zone_events)
    for event_type in NAMED_TYPES:
        by_type.setdefault(event_type, apply_name_events)
    by_type.update(dict.fromkeys(BACKUP_EVENTS, apply_backup_events))
    by_type["archive.registered"] = apply_archive_events
    by_type["print.completed"] = by_type["print.failed"] = apply_print_events
    for event_type in FINISHING:  # a heavy command's result frees its slot
        by_type[event_type] = and_free_slots(by_type[event_type])
    by_type["notification.logged"] = apply_notification_events
    handlers = Handlers(service="gateway", by_type=by_type)
    return bootstrap_consumer(settings, "gateway", inbox, handlers)
