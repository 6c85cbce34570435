"""The checker's report use cases: answer ``report.request`` commands, and make the
scheduled reports of clause 4.2 by itself (the two-week check, the quarter analyses).

Either way the report leaves as a ``report.ready`` event (``report.failed`` with a
reason when it cannot be made) through the outbox, in the transaction that made it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, Engine

from services.checker.adapters import (
    facts_store,
    parameters_store,
    report_store,
    result_store,
)
from services.checker.adapters.announce import announce
from services.checker.domain.analytics import (
    Filters,
    academic_results,
    marks_objectivity,
    objectivity_term,
)
from services.checker.domain.reports import (
    FILL_RATE_DAYS,
    WHOLE_SCHOOL,
    Report,
    ReportError,
    SchoolBook,
    Scope,
    due_reports,
    fill_rate_report,
    journal_visits_report,
    program_report,
    quarter_analysis,
    teacher_summary,
)
from services.checker.domain.rules import Parameters, visit_rows
from services.checker.handlers import Settling
from shared.events.envelope import Event
from shared.events.messages import ReportRequest

log = logging.getLogger(__name__)
SCHEDULE = "schedule"


def answer_requests(connection: Connection, commands: list[Event],
                    now: datetime | None = None) -> None:
    """Make each requested report; a request that cannot be answered gets report.failed."""
    now = now or datetime.now(UTC)
    for command in commands:
        request = ReportRequest.from_data(command.data)
        report_id = request.report_id or command.id
        kind = str(request.kind)
        try:
            report = make_report(connection, command.school_id, kind,
                                 dict(request.parameters), scope=request.scope, now=now)
        except (ReportError, ValueError, KeyError, TypeError) as exc:
            reason = str(exc) if isinstance(exc, ReportError) else f"неверный параметр: {exc}"
            announce(connection, "report.failed", command.school_id,
                     {"report_id": report_id, "kind": kind, "reason": reason}, now)
            continue
        announce(connection, "report.ready", command.school_id,
                 ready(report_id, report, request.scope, str(request.requested_by), now), now)


def make_report(connection: Connection, school_id: str, kind: str, parameters: dict[str, Any],
                *, scope: dict[str, Any] | None, now: datetime) -> Report:
    book = school_book_at(connection, school_id, now,
                          with_plans=kind in ("quarter_analysis", "program_completion"))
    today = book.today
    who = _scope(scope, book)
    class_id = parameters.get("class_id")
    if class_id is not None and class_id not in book.homeroom:
        raise ReportError(f"в школе нет класса {class_id}")
    if kind == "fill_rate":
        date_to = _date(parameters.get("date_to")) or today
        date_from = _date(parameters.get("date_from")) or date_to - timedelta(
            days=FILL_RATE_DAYS - 1)
        teacher_id = parameters.get("teacher_id")
        if teacher_id is not None and not who.sees(None, teacher_id):
            raise ReportError("этот учитель вне вашей области доступа")
        narrowed = who if teacher_id is None else Scope(teacher_id=teacher_id)
        if date_from > date_to:
            raise ReportError("начало периода позже его конца")
        rows = report_store.fill_rate_rows(
            connection, school_id, date_from, date_to, class_id=class_id, scope=narrowed,
            with_lessons=bool(parameters.get("lessons")))
        report = fill_rate_report(rows, book, date_from=date_from, date_to=date_to,
                                  with_lessons=bool(parameters.get("lessons")))
    elif kind == "quarter_analysis":
        if not class_id:
            raise ReportError("для анализа журнала нужен класс (class_id)")
        term = book.term(parameters.get("term_id"))
        on = min(today, term.end)
        report = quarter_analysis(
            class_id, term,
            fill=report_store.fill_rate_rows(connection, school_id, term.start, term.end,
                                             class_id=class_id, scope=who),
            findings=report_store.finding_refs(connection, school_id, term.start, term.end,
                                               class_id),
            held=report_store.held_counts(connection, school_id, [term], on,
                                          class_id=class_id),
            final_counts=report_store.final_counts(connection, school_id, class_id), book=book,
            scope=who)
    elif kind == "program_completion":
        on = _date(parameters.get("on")) or today
        report = program_report(
            book.plans_of(class_id),
            report_store.held_counts(connection, school_id, book.terms, on, class_id=class_id),
            book, on=on, scope=who)
    elif kind == "teacher_summary":
        term = book.term(parameters.get("term_id"))
        previous = book.previous(term)
        report = teacher_summary(
            report_store.finding_refs(connection, school_id,
                                      previous.start if previous else term.start, term.end),
            book, term, scope=who, teacher_id=parameters.get("teacher_id"))
    elif kind in ("academic_results", "marks_objectivity"):
        teacher_id = parameters.get("teacher_id")
        if teacher_id is not None and not who.sees(None, teacher_id):
            raise ReportError("этот учитель вне вашей области доступа")
        filters = Filters(scope=who, class_id=class_id, subject_id=parameters.get("subject_id"),
                          teacher_id=teacher_id)
        if kind == "academic_results":
            term = book.term(parameters.get("term_id"))
            earlier = [t.term_id for t in book.terms if t.kind == term.kind
                       and t.start <= term.start]
            report = academic_results(
                result_store.load_results(connection, school_id, earlier), book, term,
                by=str(parameters.get("by") or "class"), basis=parameters.get("basis"),
                filters=filters)
        else:
            term = objectivity_term(book, parameters.get("term_id"))
            report = marks_objectivity(
                result_store.load_results(connection, school_id, [term.term_id])[term.term_id],
                book, term, filters=filters)
    elif kind == "journal_visits":
        days = parameters.get("days") or Parameters.from_values(
            parameters_store.load(connection, school_id)).journal_visit_days
        visits = visit_rows(facts_store.load_kinds(connection, school_id, ("class", "visits")),
                            int(days))
        report = journal_visits_report(visits, book, days=int(days), class_id=class_id,
                                       scope=who)
    else:
        raise ReportError(f"неизвестный вид отчёта: {kind}")
    if class_id is not None:
        report.parameters["class_id"] = class_id
    return report


def school_book_at(connection: Connection, school_id: str, now: datetime, *,
                   with_plans: bool = False) -> SchoolBook:
    """The school's book with ``today`` in the school's time zone."""
    book = report_store.book(connection, school_id, with_plans=with_plans)
    if book is None:
        raise ReportError("о школе ещё нет проверенных данных (нет календаря или не было "
                          "проверки)")
    book.today = now.astimezone(ZoneInfo(book.timezone)).date()
    return book


def _scope(scope: dict[str, Any] | None, book: SchoolBook) -> Scope:
    """A teacher sees their own lessons; a class teacher also their classes."""
    if not scope or not scope.get("teacher_id"):
        return WHOLE_SCHOOL
    teacher_id = str(scope["teacher_id"])
    classes = frozenset(c for c, t in book.homeroom.items() if t == teacher_id) \
        if scope.get("role") == "class_teacher" else frozenset()
    return Scope(teacher_id=teacher_id, classes=classes)


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def ready(report_id: str, report: Report, scope: dict[str, Any] | None, requested_by: str,
          now: datetime) -> dict[str, Any]:
    return {"report_id": report_id, **report.as_dict(), "scope": scope,
            "requested_by": requested_by, "generated_at": now.isoformat()}


# Scheduled reports ----------------------------------------------------------------------
#: How often the checker compares a made scheduled report with what it would say now.
RECHECK = timedelta(minutes=10)


def make_scheduled(engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                   *, settling: Settling | None = None) -> int:
    """Make every scheduled report that is due and not made yet; returns how many.

    Each is claimed (a unique row) in the transaction that puts it in the
    outbox, so two checkers never make the same report twice. A school still
    receiving its history (``settling``) waits. A report made already is
    compared, every ``RECHECK``, with what it would say now: when its figures
    changed (late entries, corrections) it is made again as a new version that
    names the report it replaces.
    """
    now = clock()
    made = 0
    with engine.connect() as connection:
        school_ids = report_store.swept_schools(connection)
        held = settling.schools(connection) if settling else set()
    for school_id in school_ids:
        if school_id in held:
            continue
        with engine.begin() as connection:
            made += _make_scheduled_for(connection, school_id, now)
    if made:
        log.info("scheduled reports made", extra={"reports": made})
    return made


def _make_scheduled_for(connection: Connection, school_id: str, now: datetime) -> int:
    book = school_book_at(connection, school_id, now)
    params = Parameters.from_values(parameters_store.load(connection, school_id))
    due = due_reports(book, params.final_mark_days)
    known = report_store.scheduled_made(connection, school_id,
                                        [(kind, period) for kind, period, _ in due])
    made = 0
    for kind, period, parameters in due:
        before = known.get((kind, period))
        if before is not None and before.checked_at and now - before.checked_at < RECHECK:
            continue
        try:
            report = make_report(connection, school_id, kind, parameters, scope=None, now=now)
        except ReportError as exc:
            log.warning("scheduled report not made", extra={
                "school_id": school_id, "kind": kind, "period": period, "reason": str(exc)})
            continue
        fingerprint = figures_fingerprint(report)
        report_id = f"rep-{secrets.token_hex(12)}"
        data = ready(report_id, report, None, SCHEDULE, now)
        if before is None:
            if not report_store.claim_scheduled(connection, school_id, kind, period,
                                                report_id=report_id, now=now,
                                                fingerprint=fingerprint):
                continue
        elif before.fingerprint in (None, fingerprint):  # None: made before versions
            report_store.checked_scheduled(connection, school_id, kind, period,
                                           fingerprint=fingerprint, now=now)
            continue
        else:
            if not report_store.replace_scheduled(connection, school_id, kind, period,
                                                  replaced=before, report_id=report_id,
                                                  fingerprint=fingerprint, now=now):
                continue
            data.update(replaces=before.report_id, version=before.version + 1)
        announce(connection, "report.ready", school_id, data, now)
        made += 1
    return made


def figures_fingerprint(report: Report) -> str:
    """SHA-256 of what a report says (summary and tables), not of when it was made."""
    content = report.as_dict()
    return hashlib.sha256(orjson.dumps({"summary": content["summary"],
                                        "tables": content["tables"]},
                                       option=orjson.OPT_SORT_KEYS)).hexdigest()
