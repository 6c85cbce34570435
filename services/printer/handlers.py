"""The printer's use cases, each in the consumer batch's transaction.

- ``take_events``: fold contract and finding events into the printer's copy.
- ``Printer.print_requests``: the ``print.request`` command (from the gateway).
- ``Printer.keep_reports``: every ``report.ready`` is kept; those the checker
  made on its schedule are printed at once.

A job renders, stores the PDF under ``pdf/<school>/<job>.pdf`` (an atomic
write), records the job and puts ``print.completed`` (or ``print.failed``) in
the outbox, all before the batch commits; the message is acked after the
commit. A crash anywhere before the commit rolls back the row and the event,
the broker redelivers the command and the job is done again, overwriting the
file whole. A finished job (same id) is never done twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from services.printer.adapters import copy_store
from services.printer.adapters.tables import jobs, outbox, reports
from services.printer.domain.journal import NotPrintable, build_journal
from services.printer.domain.statements import build_final_statement, build_student_report
from services.printer.render.common import FontsMissing, RenderedPdf, local_time, school_zone
from services.printer.render.documents import (
    render_final_statement,
    render_report,
    render_student_report,
)
from services.printer.render.journal import render_journal
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event, new_envelope
from shared.messaging.outbox import add_to_outbox
from shared.storage import FileStore

log = logging.getLogger(__name__)

#: kind -> the parameters it needs (besides optional ones)
KINDS: dict[str, tuple[str, ...]] = {
    "class_journal": ("class_id",),
    "student_report": ("student_id", "term_id"),
    "final_statement": ("class_id",),
    "report": ("report_id",),
}
JOB_ID = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,63}$")
PENDING, COMPLETED, FAILED = "pending", "completed", "failed"


def take_events(connection: Connection, events: list[Event]) -> None:
    """Consumer handler for every batch: copy what the printer needs."""
    copy_store.ingest(connection, events)


def _own_class(roster: dict[str, Any] | None, scope: dict[str, Any] | None) -> None:
    """A class teacher prints only the documents of the class they lead."""
    if (scope or {}).get("role") == "class_teacher" and (roster or {}).get(
            "homeroom_teacher_id") != (scope or {}).get("teacher_id"):
        raise NotPrintable("нет доступа: это не класс этого классного руководителя")


def parameter_errors(kind: object, parameters: object) -> dict[str, str]:
    """What is wrong with a print job's kind and parameters (empty: nothing)."""
    if kind not in KINDS:
        return {"kind": f"must be one of {', '.join(KINDS)}"}
    if not isinstance(parameters, dict):
        return {"parameters": "must be an object"}
    errors = {name: "is required" for name in KINDS[str(kind)]
              if not isinstance(parameters.get(name), str) or not parameters.get(name)}
    for name in ("term_id", "year"):
        value = parameters.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            errors[name] = "must be a non-empty string"
    return errors


@dataclass
class Printer:
    store: FileStore
    font_dir: Path
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # entry points ---------------------------------------------------------------------
    def print_requests(self, connection: Connection, commands: list[Event]) -> None:
        for command in commands:
            data = command.data
            self.run_job(connection, command.school_id, str(data.get("job_id") or ""),
                         kind=data.get("kind"), parameters=data.get("parameters"),
                         requested_by=str(data.get("requested_by") or "api"),
                         scope=data.get("scope"))

    def keep_reports(self, connection: Connection, events: list[Event]) -> None:
        now = self.clock()
        for event in events:
            report_id = str(event.data.get("report_id") or "")
            if not report_id:
                log.warning("report.ready without report_id", extra={"event_id": event.id})
                continue
            known = connection.execute(select(reports.c.report_id).where(
                reports.c.report_id == report_id)).first()
            row = {"school_id": event.school_id, "kind": str(event.data.get("kind") or ""),
                   "requested_by": event.data.get("requested_by"), "received_at": now,
                   "report": event.data}
            if known is None:
                connection.execute(insert(reports).values(report_id=report_id, **row))
            else:
                connection.execute(update(reports).where(reports.c.report_id == report_id)
                                   .values(**row))
            if event.data.get("requested_by") == "schedule":
                self.run_job(connection, event.school_id, f"report-{report_id}"[:64],
                             kind="report", parameters={"report_id": report_id},
                             requested_by="schedule")

    # one job ----------------------------------------------------------------------------
    def run_job(self, connection: Connection, school_id: str, job_id: str, *, kind: Any,
                parameters: Any, requested_by: str, scope: Any = None) -> None:
        now = self.clock()
        if not JOB_ID.match(job_id):
            log.warning("print request with an unusable job id", extra={"job_id": job_id})
            return
        # Claim the job: the row exists, and this transaction holds it until it commits,
        # so a printer handed the same job at the same time waits, then finds it done.
        connection.execute(conflict_insert(connection, jobs).on_conflict_do_nothing(
            index_elements=["job_id"]).values(
            job_id=job_id, school_id=school_id, kind=str(kind), requested_by=requested_by,
            parameters=parameters if isinstance(parameters, dict) else {}, status=PENDING,
            created_at=now))
        claim = select(jobs.c.status).where(jobs.c.job_id == job_id)
        if connection.dialect.name == "postgresql":
            claim = claim.with_for_update()
        if connection.execute(claim).scalar_one() in (COMPLETED, FAILED):
            return  # done already (a re-sent command): never twice
        errors = parameter_errors(kind, parameters)
        if errors:
            reason = "; ".join(f"{name}: {message}" for name, message in errors.items())
            self._fail(connection, school_id, job_id, str(kind), f"неверный запрос: {reason}")
            return
        assert isinstance(parameters, dict)
        try:
            pdf = self.render(connection, school_id, str(kind), parameters,
                              scope if isinstance(scope, dict) else None)
        except (NotPrintable, FontsMissing) as exc:
            self._fail(connection, school_id, job_id, str(kind), str(exc))
            return
        except SQLAlchemyError:
            raise  # the database: the batch is retried
        except Exception as exc:  # a document that cannot be laid out must not poison the queue
            log.exception("print job could not be rendered", extra={"job_id": job_id})
            self._fail(connection, school_id, job_id, str(kind),
                       f"не удалось напечатать: {type(exc).__name__}: {exc}"[:2000])
            return
        key = f"pdf/{school_id}/{job_id}.pdf"
        self.store.put(key, pdf.body)  # whole or not at all; StorageError → the batch retries
        connection.execute(update(jobs).where(jobs.c.job_id == job_id).values(
            status=COMPLETED, file_key=key, sha256=pdf.sha256, pages=pdf.pages,
            bytes=len(pdf.body), reason=None, finished_at=self.clock()))
        self._announce(connection, school_id, "print.completed", {
            "job_id": job_id, "kind": kind, "school_id": school_id, "parameters": parameters,
            "requested_by": requested_by, "file_key": key, "sha256": pdf.sha256,
            "pages": pdf.pages, "bytes": len(pdf.body)})
        log.info("printed", extra={"job_id": job_id, "kind": kind, "pages": pdf.pages})

    def render(self, connection: Connection, school_id: str, kind: str,
               parameters: dict[str, Any], scope: dict[str, Any] | None = None,
               ) -> RenderedPdf:
        """The document; a teacher's scope limits it to what is theirs (NotPrintable)."""
        role = (scope or {}).get("role")
        if role == "teacher" and kind != "report":
            raise NotPrintable("нет доступа: учитель может печатать только свои отчёты")
        if kind == "report":
            found = connection.execute(select(reports.c.report, reports.c.school_id).where(
                reports.c.report_id == parameters["report_id"])).first()
            if found is None or found.school_id != school_id:
                raise NotPrintable(f"отчёт {parameters['report_id']} не получен принтером")
            calendar = copy_store.school_calendar(connection, school_id)
            return render_report(found.report, school_id, self.font_dir, calendar=calendar,
                                 class_names=copy_store.class_names(connection, school_id),
                                 printed_at=self.clock())
        if kind == "student_report":
            class_id = copy_store.class_of_student(connection, school_id,
                                                   parameters["student_id"])
            copy = copy_store.load_class(connection, school_id, class_id)
            _own_class(copy.roster, scope)
            return render_student_report(
                build_student_report(copy, parameters["student_id"], parameters["term_id"]),
                self.font_dir)
        copy = copy_store.load_class(connection, school_id, parameters["class_id"])
        _own_class(copy.roster, scope)
        if kind == "final_statement":
            return render_final_statement(build_final_statement(copy), self.font_dir)
        year = parameters.get("year") or parameters.get("academic_year")
        if year and (copy.roster or {}).get("academic_year") != year:
            raise NotPrintable(f"класс {parameters['class_id']} не учится в {year} году")
        # no term_id (or {"year": …}): the whole year
        zone = school_zone(copy.calendar)
        now = self.clock()
        return render_journal(build_journal(copy, parameters.get("term_id"),
                                            as_of=now.astimezone(zone).date()),
                              self.font_dir, printed=local_time(now, zone))

    def _fail(self, connection: Connection, school_id: str, job_id: str, kind: str,
              reason: str) -> None:
        connection.execute(update(jobs).where(jobs.c.job_id == job_id).values(
            status=FAILED, reason=reason, finished_at=self.clock()))
        self._announce(connection, school_id, "print.failed",
                       {"job_id": job_id, "kind": kind, "school_id": school_id,
                        "reason": reason})
        log.info("print job failed", extra={"job_id": job_id, "reason": reason})

    def _announce(self, connection: Connection, school_id: str, event_type: str,
                  data: dict[str, Any]) -> None:
        now = self.clock()
        add_to_outbox(connection, outbox, [new_envelope("prn", event_type, school_id, data, now)],
                      now)
