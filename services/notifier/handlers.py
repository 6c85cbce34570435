"""Use cases of the notifier, each in one transaction.

- ``fold_events``: fold the consumed events into the notifier's own facts;
  an unsubscribe (a profile with ``notifications: false``) cancels that
  person's unsent messages in the same transaction;
- ``Notifier.plan``: at each school's send times, compute the day's messages
  and queue them (once per school, kind and day);
- ``Notifier.send_due``: send due messages, recording each result before the
  next, retrying with backoff, giving up after the last attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select

from services.notifier.adapters import facts_store, message_store, settings_store
from services.notifier.adapters.channels import Channels, DeliveryFailed
from services.notifier.adapters.facts_store import State, stamp_of
from services.notifier.adapters.tables import plan_runs
from services.notifier.domain import planning
from services.notifier.domain.model import Calendar, SchoolFacts
from services.notifier.domain.timing import backoff, due_today, release_time
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import Finding, ReportReady, RuleParametersChanged
from shared.settings import Settings

log = logging.getLogger(__name__)

SCHEDULE = "schedule"  # report.ready's requested_by for the checker's own reports


# Taking events in --------------------------------------------------------------------------
def _state(event: Event) -> State | None:
    data, stamp = event.data, stamp_of(event.occurred_at, event.id)
    match event.type:
        case "school.calendar":
            return State("calendar", "school", stamp, data)
        case "teacher.profile":
            return State("teacher", str(data["teacher_id"]), stamp, data)
        case "student.profile":
            return State("student", str(data["student_id"]), stamp, data)
        case "class.roster":
            return State("class", str(data["class_id"]), stamp, data)
        case "subject.plan":
            key = "|".join(str(data.get(k) or "") for k in
                           ("class_id", "subject_id", "subgroup", "term_id"))
            return State("plan", key, stamp, data)
        case "lesson.recorded":
            return State("lesson", str(data["lesson_id"]), stamp, data,
                         day=date.fromisoformat(str(data["date"])))
        case "lesson.deleted":
            return State("lesson", str(data["lesson_id"]), stamp, None)
        case "attendance.recorded":
            return State("attendance", str(data["lesson_id"]), stamp, data)
        case "mark.recorded":
            return State("mark", str(data["mark_id"]), stamp, data,
                         day=date.fromisoformat(str(data["date"])),
                         tag=str(data.get("kind") or "current"))
        case "mark.deleted":
            return State("mark", str(data["mark_id"]), stamp, None)
    return None


def fold_events(connection: Connection, events: list[Event]) -> None:
    now = datetime.now(UTC)
    by_school: dict[str, list[State]] = {}
    findings: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    parameters: dict[str, list[Event]] = {}
    for event in events:
        if event.type.startswith("finding."):
            findings.append(_finding_row(event))
        elif event.type == "report.ready":
            ready = ReportReady.from_data(event.data)
            if ready.requested_by == SCHEDULE:
                reports.append(_report_row(event, ready))
        elif event.type == "rules.parameters.changed":
            parameters.setdefault(event.school_id, []).append(event)
        elif (state := _state(event)) is not None:
            by_school.setdefault(event.school_id, []).append(state)
    for school_id, states in by_school.items():
        facts_store.keep(connection, school_id, states)
        _honour_unsubscribes(connection, school_id, states, now)
    for school_id, changes in parameters.items():
        _keep_parameters(connection, school_id, changes)
    facts_store.keep_findings(connection, findings)
    facts_store.keep_reports(connection, reports)


def _finding_row(event: Event) -> dict[str, Any]:
    finding = Finding.from_data(event.data)
    status = "open" if event.type == "finding.opened" else finding.status or "closed"
    if event.type == "finding.closed":
        status = "withdrawn"
    return {"finding_id": finding.id, "school_id": event.school_id,
            "stamp": stamp_of(event.occurred_at, event.id), "status": status,
            "rule": finding.rule, "responsible": finding.responsible,
            "teacher_id": finding.teacher_id, "class_id": finding.class_id,
            "subject_id": finding.subject_id, "day": finding.date,
            "message": finding.message, "opened_at": event.occurred_at.astimezone(UTC)}


def _report_row(event: Event, ready: ReportReady) -> dict[str, Any]:
    return {"report_id": ready.report_id, "school_id": event.school_id,
            "kind": ready.kind, "title": ready.title, "parameters": dict(ready.parameters),
            "summary": list(ready.summary), "received_at": event.occurred_at.astimezone(UTC)}


def _keep_parameters(connection: Connection, school_id: str, changes: list[Event]) -> None:
    values = dict(facts_store.stored(connection, school_id, "parameters", "school") or {})
    for event in sorted(changes, key=lambda e: (e.occurred_at, e.id)):
        changed = RuleParametersChanged.from_data(event.data)
        values.update({k: v for k, v in changed.parameters.items()
                       if k in planning.PARAMETER_DEFAULTS})
    last = max(changes, key=lambda e: (e.occurred_at, e.id))
    facts_store.keep(connection, school_id, [State("parameters", "school",
                                                   stamp_of(last.occurred_at, last.id), values)])


def _honour_unsubscribes(connection: Connection, school_id: str, states: list[State],
                         now: datetime) -> None:
    """Whoever the stored (latest) profile says has unsubscribed loses every unsent message."""
    for state in states:
        if state.kind not in ("teacher", "student"):
            continue
        data = facts_store.stored(connection, school_id, state.kind, state.key) or {}
        if state.kind == "teacher":
            if facts_store.teacher_recipient(data).consent is False:
                message_store.cancel(connection, school_id, "teacher", state.key, now,
                                     reason="unsubscribed (teacher.profile)")
            continue
        for parent in facts_store.parent_recipients(data):
            if not parent.consent:
                message_store.cancel(connection, school_id, "parent", parent.person_id, now,
                                     student_id=state.key,
                                     reason="consent withdrawn (student.profile)")


# Planning and sending -------------------------------------------------------------------
@dataclass
class Notifier:
    engine: Engine
    settings: Settings
    channels: Channels
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self._defaults = settings_store.defaults(self.settings)
        self._zones: dict[str, str] = {}

    @property
    def settling(self) -> timedelta:
        return timedelta(minutes=self.settings.notifier_settling_minutes)

    def now(self) -> datetime:
        """The clock in UTC: SQLite keeps date-times without their offset."""
        return self.clock().astimezone(UTC)

    def plan(self) -> int:
        """Queue whatever is due at every school now; returns how many messages were new."""
        now = self.now()
        with self.engine.connect() as connection:
            school_ids = facts_store.schools(connection)
            with_reports = set(facts_store.schools_with_pending_reports(connection))
        queued = 0
        for school_id in school_ids:
            queued += self.plan_school(school_id, now, reports=school_id in with_reports)
        if queued:
            log.info("messages queued", extra={"messages": queued})
        return queued

    def plan_school(self, school_id: str, now: datetime, *, reports: bool = True) -> int:
        now = now.astimezone(UTC)
        with self.engine.connect() as connection:
            calendar = Calendar.from_data(
                facts_store.stored(connection, school_id, "calendar", "school") or {})
            times = settings_store.times_of(connection, school_id, self._defaults)
        zone = calendar.timezone
        today = now.astimezone(ZoneInfo(zone)).date()
        queued = 0
        for kind, at in (("reminder", times.reminder_time), ("digest", times.digest_time)):
            if not due_today(now, zone, at) or not calendar.is_school_day(today):
                continue
            with self.engine.begin() as connection:
                since = self._claim_run(connection, school_id, kind, today, now)
                if since is None:
                    continue  # planned already (here or by another notifier)
                if kind == "reminder":
                    facts = self._load(connection, school_id, today, since)
                    drafts = planning.reminders(facts, today)
                    if times.parents_enabled:
                        drafts += planning.parent_notices(facts, today, since=since, now=now)
                else:
                    facts = facts_store.load_school(connection, school_id, days=(),
                                                    marks_since="~")
                    drafts = planning.digests(facts, today, now, since=since,
                                              settling=self.settling)
                count = self.queue(connection, drafts, zone, now)
                connection.execute(plan_runs.update().where(
                    plan_runs.c.school_id == school_id, plan_runs.c.kind == kind,
                    plan_runs.c.day == today).values(messages=count))
                queued += count
        if reports:
            queued += self._summaries(school_id, zone, now)
        return queued

    def _load(self, connection: Connection, school_id: str, today: date,
              since: datetime) -> SchoolFacts:
        params = dict(facts_store.stored(connection, school_id, "parameters", "school") or {})
        written_days = int(params.get("written_mark_days",
                                      planning.PARAMETER_DEFAULTS["written_mark_days"]))
        written_date = today + timedelta(days=1 - written_days)
        probe = SchoolFacts(school_id, Calendar.from_data(
            facts_store.stored(connection, school_id, "calendar", "school") or {}), params)
        terms = [t.term_id for t in planning.final_terms_due(probe, today)]
        return facts_store.load_school(connection, school_id, days=(today, written_date),
                                       marks_since=since.astimezone(UTC).isoformat(),
                                       final_terms=terms)

    def _claim_run(self, connection: Connection, school_id: str, kind: str, today: date,
                   now: datetime) -> datetime | None:
        """Claim today's run; returns when the previous one ran (or a day ago), None if
        today's was claimed already."""
        claimed = connection.execute(conflict_insert(connection, plan_runs).values(
            school_id=school_id, kind=kind, day=today, ran_at=now, messages=0)
            .on_conflict_do_nothing().returning(plan_runs.c.day)).first()
        if claimed is None:
            return None
        previous = connection.execute(select(plan_runs.c.ran_at).where(
            plan_runs.c.school_id == school_id, plan_runs.c.kind == kind,
            plan_runs.c.day < today).order_by(plan_runs.c.day.desc()).limit(1)).scalar()
        if previous is None:
            return now - timedelta(days=1)
        return previous if previous.tzinfo else previous.replace(tzinfo=UTC)

    def _summaries(self, school_id: str, zone: str, now: datetime) -> int:
        with self.engine.begin() as connection:
            pending = facts_store.pending_reports(connection, school_id, now - self.settling)
            if not pending:
                return 0
            facts = facts_store.load_school(connection, school_id, days=(), marks_since="~")
            drafts = planning.report_summaries(facts, pending,
                                               self.settings.notifier_console_url)
            count = self.queue(connection, drafts, zone, now)
            facts_store.mark_summarised(connection, [r.report_id for r in pending], now)
        return count

    def queue(self, connection: Connection, drafts: list[planning.Draft], zone: str,
               now: datetime) -> int:
        now = now.astimezone(UTC)
        channels = [(draft, channel, address) for draft in drafts
                    for channel, address in self.channels.addresses(draft.recipient)]
        release = {draft.school_id: release_time(now, zone) for draft in drafts}
        return message_store.queue(connection, drafts, channels, release, now)

    def _zone(self, school_id: str) -> str:
        if school_id not in self._zones:
            with self.engine.connect() as connection:
                self._zones[school_id] = Calendar.from_data(facts_store.stored(
                    connection, school_id, "calendar", "school") or {}).timezone
        return self._zones[school_id]

    def send_due(self, limit: int = 20) -> int:
        """Send one batch of due messages; returns how many were tried."""
        batch = message_store.claim(self.engine, self.now(), limit=limit,
                                    lease=self.settings.notifier_send_lease)
        for message in batch:
            try:
                self.channels.send(message)
            except DeliveryFailed as exc:
                now = self.now()
                retry_at = release_time(
                    now + backoff(message.attempts, self.settings.notifier_retry_base),
                    self._zone(message.school_id))
                status = message_store.finish(
                    self.engine, message, now, error=exc.reason, permanent=exc.permanent,
                    retry_at=retry_at, max_attempts=self.settings.notifier_max_attempts)
                # the reason (it may name the address) stays in the delivery log's table
                log.warning("message not delivered", extra={
                    "message_id": message.message_id, "status": status})
            else:
                message_store.finish(self.engine, message, self.now(), error=None,
                                     max_attempts=self.settings.notifier_max_attempts)
        return len(batch)
