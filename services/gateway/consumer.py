"""The gateway's own consumer: the checker's events into the read models the API serves."""

from __future__ import annotations

from sqlalchemy import Engine

from services.gateway.adapters.tables import inbox
from services.gateway.handlers.backups import apply_archive_events, apply_backup_events
from services.gateway.handlers.classes import apply_roster_events
from services.gateway.handlers.command_slots import FINISHING, free_slots
from services.gateway.handlers.findings import apply_finding_events, apply_parameter_events
from services.gateway.handlers.names import apply_name_events
from services.gateway.handlers.notifications import apply_notification_events
from services.gateway.handlers.print_jobs import apply_print_events
from services.gateway.handlers.reports import apply_report_events
from services.gateway.handlers.school_zones import apply_zone_events
from shared.messaging.dispatcher import Dispatcher
from shared.service import ConsumerService, bootstrap_consumer
from shared.settings import Settings

FINDING_EVENTS = ("finding.opened", "finding.closed", "finding.updated")
BACKUP_EVENTS = ("backup.completed", "backup.verified", "backup.failed", "backup.pruned")
#: contract events the gateway reads names from (shared/messaging/topology.py binds them)
NAMED_TYPES = ("school.calendar", "class.roster", "teacher.profile", "subject.plan")


def dispatcher() -> Dispatcher:
    """The gateway's read models, each kept from the events it shows; no commands."""
    handles = Dispatcher("gateway")
    handles.on("finding.*", apply_finding_events)
    handles.on("rules.parameters.changed", apply_parameter_events)
    handles.on(("report.ready", "report.failed"), apply_report_events)
    handles.on("class.roster", apply_roster_events)
    handles.on(NAMED_TYPES, apply_name_events)
    handles.on("school.calendar", apply_zone_events)
    handles.on("backup.*", apply_backup_events)
    handles.on("archive.registered", apply_archive_events)
    handles.on("print.*", apply_print_events)
    handles.on("notification.logged", apply_notification_events)
    # A heavy command's result frees its slot, after its read model took it in.
    handles.on(tuple(FINISHING), free_slots)
    return handles


def bootstrap_read_model(settings: Settings, *, engine: Engine | None = None
                         ) -> ConsumerService:
    return bootstrap_consumer(settings, "gateway", inbox, dispatcher(), engine=engine)
