"""The reports read model: report.ready / report.failed from the checker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from services.gateway.adapters import command_slots
from services.gateway.adapters.tables import reports_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import ReportFailed, ReportReady


def apply_report_events(connection: Connection, events: list[Event]) -> None:
    """A pending request becomes ready (or failed); a scheduled report is added."""
    for event in events:
        if event.type == "report.ready":
            ready = ReportReady.from_data(event.data)
            report_id, kind = ready.report_id, ready.kind
            parameters, scope, requested_by = ready.parameters, ready.scope, ready.requested_by
            values: dict[str, Any] = {
                "status": "ready", "content": event.data, "error": None,
                "generated_at": ready.generated_at}
        else:
            failed = ReportFailed.from_data(event.data)
            report_id, kind = failed.report_id, failed.kind
            parameters, scope, requested_by = {}, None, None
            values = {"status": "failed", "error": failed.reason}
        if not report_id:
            continue  # names no report: nothing to show it as
        # A request's row is there already (pending); a scheduled report's is not.
        connection.execute(conflict_insert(connection, reports_view).values(
            id=report_id, school_id=event.school_id, kind=kind, parameters=parameters,
            scope=scope, requested_by=requested_by or "schedule",
            requested_at=values.get("generated_at") or event.occurred_at, **values,
        ).on_conflict_do_update(index_elements=["id"], set_=values))


def record_report_request(connection: Connection, *, report_id: str, school_id: str,
                          kind: str, parameters: dict[str, Any], scope: dict[str, Any] | None,
                          requested_by: str, now: datetime) -> str | None:
    """Record an API request as ``pending`` and take the school's slot for its kind, in
    the caller's transaction (which records its command too): None when recorded, else
    the id of the request holding the slot (nothing recorded)."""
    holder = command_slots.take(connection, school_id, f"report:{kind}", report_id, now)
    if holder is not None:
        return holder
    connection.execute(insert(reports_view).values(
        id=report_id, school_id=school_id, kind=kind, status="pending",
        parameters=parameters, scope=scope, requested_by=requested_by, requested_at=now))
    return None

