"""The checker's use cases: take events in, and sweep (evaluate and reconcile findings)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from services.checker.adapters import (
    deadlines_store,
    facts_store,
    findings_store,
    parameters_store,
    report_store,
    result_store,
)
from services.checker.adapters.announce import announce
from services.checker.domain.deadlines import next_change
from services.checker.domain.reports import final_mark_counts, lesson_statistics, school_book
from services.checker.domain.results import student_results
from services.checker.domain.rules import Parameters, evaluate, school_view
from shared.db.engine import is_postgresql
from shared.events.envelope import Event
from shared.events.messages import FindingUpdate, RuleParametersUpdate
from shared.events.rules import parameter_errors

log = logging.getLogger(__name__)


def announce_reconciled(connection: Connection, school_id: str,
                        change: findings_store.Reconciled, now: datetime) -> None:
    """finding.opened / .closed / .updated for other services, in the same transaction."""
    announce.many(connection, [
        (event_type, school_id, item)
        for event_type, ids in (("finding.opened", change.opened),
                                ("finding.closed", change.withdrawn),
                                ("finding.updated", change.updated))
        for item in findings_store.as_items(connection, ids)], now)


CommandHandler = Callable[[Connection, list[Event]], None]


def under_school_locks(handler: CommandHandler) -> CommandHandler:
    """``handler`` with its commands' schools locked first (waiting, in one order), as the
    fold locks them: a sweep never reconciles a school while a command changes it."""

    def locked(connection: Connection, commands: list[Event]) -> None:
        for school_id in sorted({command.school_id for command in commands}):
            facts_store.lock_school(connection, school_id, wait=True)
        handler(connection, commands)

    return locked


def update_findings(connection: Connection, commands: list[Event]) -> None:
    """Commands from the administrators' API: mark findings fixed, waived or open."""
    now = datetime.now(UTC)
    for command in commands:
        change = FindingUpdate.from_data(command.data)
        changed = findings_store.change_status(
            connection, command.school_id, change.finding_id, change.status,
            actor=change.actor or "api", comment=change.comment, now=now)
        if not changed:
            log.warning("finding update refers to no finding of that school",
                        extra={"command_id": command.id})
            continue
        announce.many(connection, [
            ("finding.updated", command.school_id, item)
            for item in findings_store.as_items(connection, [change.finding_id])], now)


def update_parameters(connection: Connection, commands: list[Event]) -> None:
    """Commands from the API: a school's own rule parameters (validated again here)."""
    now = datetime.now(UTC)
    for command in commands:
        update = RuleParametersUpdate.from_data(command.data)
        values = update.parameters
        if parameter_errors(values):
            log.warning("refused a parameters change", extra={"command_id": command.id})
            continue
        assert isinstance(values, dict)
        merged = {**load_parameters(connection, command.school_id), **values}
        write = parameters_store.save(connection, command.school_id, merged,
                                      update.actor or "api", now)
        facts_store.mark_dirty(connection, command.school_id, now)
        announce(connection, "rules.parameters.changed", command.school_id,
                 {"parameters": write, "updated_by": update.actor}, now)


def load_parameters(connection: Connection, school_id: str) -> dict[str, Any]:
    return parameters_store.load(connection, school_id)


def fold_events(connection: Connection, events: list[Event], *,
                settle_lag: float | None = None) -> None:
    """Consumer handler: fold a batch of new events into the facts (same transaction)."""
    facts_store.ingest(connection, events, settle_lag=None if settle_lag is None
                       else timedelta(seconds=settle_lag))


@dataclass(frozen=True)
class Settling:
    """Which schools are still receiving their history, and so not judged yet.

    A school is settling for ``window`` seconds after the checker last folded one
    of its events that arrived long after it was entered; while the checker's
    queue has deliveries waiting (``backlog``), for ten windows, since more of
    that history may be among them. Findings, reports and anything sent from them
    are then made once, from the whole history, instead of from half of it.
    """

    window: float
    backlog: Callable[[], int] = lambda: 0
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def schools(self, connection: Connection) -> set[str]:
        if self.window <= 0:
            return set()
        span = self.window * (10 if self.backlog() > 0 else 1)
        return facts_store.catching_up_since(connection,
                                             self.wall_clock() - timedelta(seconds=span))


@dataclass
class SweepResult:
    held: int = 0  # settling schools left for later
    busy: int = 0  # schools another checker was folding or sweeping: left for the next tick
    prepared: int = 0  # quiet schools whose findings had been judged ahead for the moment
    schools: int = 0
    findings: int = 0
    opened: int = 0
    withdrawn: int = 0


def sweep(engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
          school_ids: list[str] | None = None, dirty_only: bool = False, due: bool = False,
          params: Parameters | None = None, settling: Settling | None = None) -> SweepResult:
    """Evaluate every rule for the schools at the clock's time; one transaction per school.

    ``dirty_only``: the schools whose facts changed; with ``due`` also those whose
    next deadline (the deadline index each sweep writes) has passed, quiet or not.
    With ``settling``, schools still receiving their history are left for a later
    sweep (they stay dirty and due). A school another checker holds is left for
    the next tick too.
    """
    now = clock()
    with engine.connect() as connection:
        chosen = school_ids or facts_store.schools(connection, dirty_only=dirty_only)
        if due and not school_ids:
            chosen = sorted(set(chosen) | set(deadlines_store.due(connection, now)))
        held = settling.schools(connection) if settling else set()
    result = SweepResult(held=len(set(chosen) & held))
    chosen = [school_id for school_id in chosen if school_id not in held]
    for school_id in chosen:
        started = datetime.now(UTC)
        with engine.begin() as connection:
            if not facts_store.lock_school(connection, school_id, wait=False):
                result.busy += 1
                continue
            ahead = deadlines_store.prepared(connection, school_id, now) \
                if due and not facts_store.is_dirty(connection, school_id) else None
            if ahead is not None:
                # Quiet since judged ahead: its findings from this moment are known.
                current, valid_until = ahead
                change = findings_store.reconcile(connection, school_id, current, now)
                announce_reconciled(connection, school_id, change, now)
                deadlines_store.keep(connection, school_id, valid_until)
                result.prepared += 1
            else:
                facts = facts_store.load_school(connection, school_id)
                school_params = params or Parameters.from_values(
                    parameters_store.load(connection, school_id))
                # one view of the school for the rules and the term results
                view = school_view(facts, now, school_params)
                current = evaluate(facts, now, school_params, view=view)
                deadlines_store.keep(connection, school_id,
                                     next_change(facts, now, school_params))
                change = findings_store.reconcile(connection, school_id, current, now)
                announce_reconciled(connection, school_id, change, now)
                report_store.save_statistics(connection, school_id,
                                             lesson_statistics(facts, school_params),
                                             final_mark_counts(facts), school_book(facts))
                result_store.save_results(connection, school_id,
                                          student_results(facts, now, school_params, view=view))
                facts_store.clean(connection, school_id, started)
        result.schools += 1
        result.findings += len(current)
        result.opened += len(change.opened)
        result.withdrawn += len(change.withdrawn)
    if result.opened or result.withdrawn or result.held:
        log.info("sweep", extra={"schools": result.schools, "opened": result.opened,
                                 "withdrawn": result.withdrawn, "held_settling": result.held})
    return result


#: How long before a quiet school's next moment its findings for it are judged ahead.
PREPARE_HORIZON = timedelta(hours=3)
#: Moments closer than this are judged ahead together (the school is due at the last).
TOGETHER = timedelta(seconds=1)


def prepare_ahead(engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                  horizon: timedelta = PREPARE_HORIZON, budget: float | None = None,
                  params: Parameters | None = None) -> int:
    """Judge quiet schools ahead of their next moment, soonest first, for at most
    ``budget`` seconds; returns how many were prepared.

    Most deadlines of every school fall at the same local midnight: judged ahead,
    the tick at that moment only reconciles the findings known for it, so the work
    at the moment is proportional to what changes, not to the schools' sizes. A
    school whose facts change meanwhile is dirty and judged whole instead.
    """
    started = time.monotonic()
    now = clock()
    with engine.connect() as connection:
        chosen = deadlines_store.to_prepare(connection, now + horizon)
    count = 0
    for school_id in chosen:
        if budget is not None and time.monotonic() - started > budget:
            break
        with engine.begin() as connection:
            if not facts_store.lock_school(connection, school_id, wait=False) \
                    or facts_store.is_dirty(connection, school_id):
                continue
            moment = deadlines_store.due_at(connection, school_id)
            if moment is None:
                continue
            facts = facts_store.load_school(connection, school_id)
            school_params = params or Parameters.from_values(
                parameters_store.load(connection, school_id))
            # Moments a breath apart (a new local day, and the deadlines just after it)
            # pass within one tick: judge them together, at the last.
            following = next_change(facts, moment, school_params)
            while following is not None and following - moment <= TOGETHER:
                moment, following = following, next_change(facts, following, school_params)
            deadlines_store.prepare(connection, school_id, moment,
                                    evaluate(facts, moment, school_params), following)
        count += 1
    return count


def refresh_statistics(engine: Engine, *, only_if_stale: bool = False) -> bool:
    """ANALYZE the facts on PostgreSQL when many rows changed since the last time.

    With the statistics of a small table the planner filters a school's rows
    instead of looking entities up by key, and each batch costs more as the
    facts grow. Autovacuum normally prevents that; where it is off, or slower
    than a fast replay, the checker does it itself. Returns whether it ran.
    """
    if not is_postgresql(engine):
        return False
    with engine.begin() as connection:
        if only_if_stale:
            row = connection.exec_driver_sql(
                "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables "
                "WHERE relname = 'checker_facts'").first()
            if row is None or row[0] < max(1000, 0.2 * row[1]):
                return False
        connection.exec_driver_sql("ANALYZE checker_facts")
        connection.exec_driver_sql("ANALYZE checker_inbox")
        connection.exec_driver_sql("ANALYZE checker_lesson_stats")
    return True
