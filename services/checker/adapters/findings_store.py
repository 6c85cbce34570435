"""Findings and their history: opened, withdrawn, reopened by sweeps; fixed or waived by people."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from services.checker.adapters.tables import finding_history, findings
from services.checker.domain.catalog import CATALOG, message, severity_of
from services.checker.domain.rules import Finding, identity
from shared.events.messages import FINDING_PLAIN_FIELDS, FindingStep
from shared.events.messages import Finding as FindingMessage

OPEN, FIXED, WAIVED, WITHDRAWN = "open", "fixed", "waived", "withdrawn"
CHECKER = "checker"


#: What describes a finding (its identity aside): what a correction can change.
DESCRIPTION = ("clause", "severity", "responsible", "class_id", "subject_id", "subgroup",
               "teacher_id", "student_id", "lesson_id", "mark_id", "term_id", "date",
               "message", "evidence")


@dataclass
class Reconciled:
    opened: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    #: findings still holding whose description changed (a corrected date, value, ...)
    updated: list[str] = field(default_factory=list)


def reconcile(connection: Connection, school_id: str, current: list[Finding],
              now: datetime) -> Reconciled:
    """Make the stored findings of a school match what holds now."""
    wanted = {identity(finding): finding for finding in current}
    stored = {row.finding_key: row for row in connection.execute(
        select(findings.c.id, findings.c.finding_key, findings.c.status,
               *(findings.c[name] for name in DESCRIPTION))
        .where(findings.c.school_id == school_id))}
    result = Reconciled()
    new_rows, history = [], []
    for key, finding in wanted.items():
        row = stored.get(key)
        if row is None:
            finding_id = secrets.token_hex(12)
            new_rows.append(_row(finding_id, school_id, key, finding, now))
            history.append(_history(finding_id, OPEN, now))
            result.opened.append(finding_id)
            continue
        described = _description(finding)
        changed = [name for name in DESCRIPTION if _comparable(row._mapping[name], name)
                   != _comparable(described[name], name)]
        if changed:
            connection.execute(update(findings).where(findings.c.id == row.id)
                               .values(**described, updated_at=now))
        if row.status == WITHDRAWN:  # the cause is back
            _set_status(connection, row.id, OPEN, now)
            history.append(_history(row.id, OPEN, now, "the cause is present again"))
            result.opened.append(row.id)
        elif changed:
            history.append(_history(row.id, row.status, now,
                                    "the evidence changed: " + ", ".join(changed)))
            result.updated.append(row.id)
    for key, row in stored.items():
        if row.status == OPEN and key not in wanted:
            _set_status(connection, row.id, WITHDRAWN, now)
            history.append(_history(row.id, WITHDRAWN, now, "newer entries removed the cause"))
            result.withdrawn.append(row.id)
    if new_rows:
        connection.execute(insert(findings), new_rows)
    if history:
        connection.execute(insert(finding_history), history)
    return result


def _comparable(value: Any, name: str) -> Any:
    """A stored and a computed value compare equal when they mean the same."""
    if name == "evidence":
        return orjson.loads(orjson.dumps(value or {}))
    if name == "date" and isinstance(value, datetime):
        return value.date()
    return value


def as_items(connection: Connection, finding_ids: list[str]) -> list[dict[str, Any]]:
    """Findings as the API and the finding events show them (``shared.events.messages:
    Finding``, as data)."""
    if not finding_ids:
        return []
    rows = [row._mapping for row in connection.execute(
        select(findings).where(findings.c.id.in_(finding_ids)))]
    history: dict[str, list[FindingStep]] = {row["id"]: [] for row in rows}
    for step in connection.execute(select(finding_history).where(
            finding_history.c.finding_id.in_(finding_ids)).order_by(finding_history.c.seq)):
        history[step.finding_id].append(FindingStep(
            at=_utc(step.at), status=step.status, actor=step.actor, comment=step.comment))
    return [_item(row, history[row["id"]]).to_data() for row in rows]


def change_status(connection: Connection, school_id: str, finding_id: str, status: str, *,
                  actor: str, comment: str | None, now: datetime) -> bool:
    """A person marks a finding fixed or waived (or open again); False if there is none."""
    found = connection.execute(select(findings.c.status).where(
        findings.c.id == finding_id, findings.c.school_id == school_id)).first()
    if found is None or status not in (OPEN, FIXED, WAIVED):
        return False
    _set_status(connection, finding_id, status, now)
    connection.execute(insert(finding_history),
                       [_history(finding_id, status, now, comment, actor=actor)])
    return True


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _item(row: Any, history: list[FindingStep]) -> FindingMessage:
    return FindingMessage(**{name: row[name] for name in FINDING_PLAIN_FIELDS},
                          date=row["date"], detected_at=_utc(row["detected_at"]),
                          history=history)


def _description(finding: Finding) -> dict[str, Any]:
    rule = CATALOG[finding.rule]
    return {
        "clause": rule.clause, "severity": severity_of(finding),
        "responsible": rule.responsible, "class_id": finding.class_id,
        "subject_id": finding.subject_id, "subgroup": finding.subgroup,
        "teacher_id": finding.teacher_id, "student_id": finding.student_id,
        "lesson_id": finding.lesson_id, "mark_id": finding.mark_id, "term_id": finding.term_id,
        "date": finding.date, "message": message(finding), "evidence": finding.evidence,
    }


def _row(finding_id: str, school_id: str, key: str, finding: Finding,
         now: datetime) -> dict[str, Any]:
    return {"id": finding_id, "school_id": school_id, "finding_key": key, "rule": finding.rule,
            "status": OPEN, "detected_at": now, "updated_at": now, **_description(finding)}


def _set_status(connection: Connection, finding_id: str, status: str, now: datetime) -> None:
    connection.execute(update(findings).where(findings.c.id == finding_id)
                       .values(status=status, updated_at=now))


def _history(finding_id: str, status: str, now: datetime, comment: str | None = None,
             actor: str = CHECKER) -> dict[str, Any]:
    return {"finding_id": finding_id, "at": now, "status": status, "actor": actor,
            "comment": comment}
