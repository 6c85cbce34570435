"""The read models of the checker's results: findings and each school's rule parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from services.gateway.adapters.tables import findings_view, rule_parameters_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import FINDING_PLAIN_FIELDS, Finding, RuleParametersChanged


def apply_finding_events(connection: Connection, events: list[Event]) -> None:
    """Upsert each announced finding; an older event never overwrites a newer one."""
    for event in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        row = _row(Finding.from_data(event.data), event.occurred_at)
        statement = conflict_insert(connection, findings_view).values(row)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["id"],
            set_={name: statement.excluded[name] for name in row if name != "id"},
            where=findings_view.c.stamp <= statement.excluded.stamp))


def _row(finding: Finding, stamp: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(finding, name) for name in FINDING_PLAIN_FIELDS}
    row["date"] = finding.date
    row["detected_at"] = finding.detected_at
    row["history"] = [step.to_data() for step in finding.history]
    row["stamp"] = stamp
    return row


def apply_parameter_events(connection: Connection, events: list[Event]) -> None:
    """Keep each school's newest announced parameters."""
    for event in sorted(events, key=lambda e: (e.occurred_at, e.id)):
        statement = conflict_insert(connection, rule_parameters_view).values(
            school_id=event.school_id,
            parameters=RuleParametersChanged.from_data(event.data).parameters,
            stamp=event.occurred_at)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["school_id"],
            set_={"parameters": statement.excluded.parameters,
                  "stamp": statement.excluded.stamp},
            where=rule_parameters_view.c.stamp <= statement.excluded.stamp))
