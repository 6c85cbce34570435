"""The printer's use cases, each in the consumer batch's transaction.

- ``copy_events``: fold contract and finding events into the printer's copy.
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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from services.printer.adapters import copy_store
from services.printer.adapters.announce import announce
from services.printer.adapters.tables import jobs, reports
from services.printer.domain import file_names
from services.printer.domain.journal import (
    ClassCopy,
    NotPrintable,
    build_journal,
    class_name,
    class_sort_key,
    class_students,
    roster_class_name,
    school_names,
    terms_of,
)
from services.printer.domain.requests import class_refusal, kind_refusal, parameter_errors
from services.printer.domain.statements import build_final_statement, build_student_report
from services.printer.render.bundle import Part, one_pdf, one_zip
from services.printer.render.common import (
    DocumentInfo,
    FontsMissing,
    RenderedPdf,
    local_time,
    school_zone,
)
from services.printer.render.documents import (
    render_final_statement,
    render_report,
    render_student_report,
)
from services.printer.render.journal import render_journal, render_remarks_sheet
from shared.db.engine import is_postgresql
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import PrintRequest, ReportReady
from shared.storage import FileStore

log = logging.getLogger(__name__)

JOB_ID = re.compile(r"^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,63}$")
PENDING, COMPLETED, FAILED = "pending", "completed", "failed"


def copy_events(connection: Connection, events: list[Event]) -> None:
    """Consumer handler for every batch: copy what the printer needs."""
    copy_store.ingest(connection, events)


def _own_class(roster: dict[str, Any] | None, scope: dict[str, Any] | None) -> None:
    if (refusal := class_refusal(roster, scope)) is not None:
        raise NotPrintable(refusal)


@dataclass(frozen=True)
class Printed:
    """A finished document: its file, its readable name, and how many documents it holds."""

    pdf: RenderedPdf
    file_name: str
    documents: int = 1


#: (school_id, job_id, documents done, documents in all): a batch's progress
Progress = Callable[[str, str, int, int], None]


@dataclass
class Printer:
    store: FileStore
    font_dir: Path
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: told after each document of a batch (main.py: announced where the database lets a
    #: second transaction write beside the batch's; None: progress only at the end)
    progress: Progress | None = None

    # entry points ---------------------------------------------------------------------
    def print_requests(self, connection: Connection, commands: list[Event]) -> None:
        for command in commands:
            request = PrintRequest.from_data(command.data)
            self.run_job(connection, command.school_id, request.job_id, kind=request.kind,
                         parameters=request.parameters, requested_by=request.requested_by,
                         scope=request.scope)

    def keep_reports(self, connection: Connection, events: list[Event]) -> None:
        now = self.clock()
        for event in events:
            ready = ReportReady.from_data(event.data)
            report_id = ready.report_id
            if not report_id:
                log.warning("report.ready without report_id", extra={"event_id": event.id})
                continue
            known = connection.execute(select(reports.c.report_id).where(
                reports.c.report_id == report_id)).first()
            row = {"school_id": event.school_id, "kind": ready.kind,
                   "requested_by": ready.requested_by, "received_at": now,
                   "report": event.data}
            if known is None:
                connection.execute(insert(reports).values(report_id=report_id, **row))
            else:
                connection.execute(update(reports).where(reports.c.report_id == report_id)
                                   .values(**row))
            if ready.requested_by == "schedule":
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
        if is_postgresql(connection):
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
            printed = self.render(connection, school_id, str(kind), parameters,
                                  scope if isinstance(scope, dict) else None,
                                  on_progress=lambda done, total: self._tell(
                                      school_id, job_id, done, total))
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
        pdf = printed.pdf
        # the job's folder keeps keys unique; the name is what the download and backups show
        key = f"pdf/{school_id}/{job_id}/{printed.file_name}"
        self.store.put(key, pdf.body)  # whole or not at all; StorageError → the batch retries
        connection.execute(update(jobs).where(jobs.c.job_id == job_id).values(
            status=COMPLETED, file_key=key, sha256=pdf.sha256, pages=pdf.pages,
            bytes=len(pdf.body), reason=None, finished_at=self.clock()))
        self._announce(connection, school_id, "print.completed", {
            "job_id": job_id, "kind": kind, "school_id": school_id, "parameters": parameters,
            "requested_by": requested_by, "file_key": key, "sha256": pdf.sha256,
            "pages": pdf.pages, "bytes": len(pdf.body), "file_name": printed.file_name,
            "documents": printed.documents})
        log.info("printed", extra={"job_id": job_id, "kind": kind, "pages": pdf.pages})

    def _tell(self, school_id: str, job_id: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(school_id, job_id, done, total)

    def render(self, connection: Connection, school_id: str, kind: str,
               parameters: dict[str, Any], scope: dict[str, Any] | None = None, *,
               on_progress: Callable[[int, int], None] | None = None) -> Printed:
        """The document; a teacher's scope limits it to what is theirs (NotPrintable)."""
        if (refusal := kind_refusal(kind, scope)) is not None:
            raise NotPrintable(refusal)
        if kind == "report":
            found = connection.execute(select(reports.c.report, reports.c.school_id).where(
                reports.c.report_id == parameters["report_id"])).first()
            if found is None or found.school_id != school_id:
                raise NotPrintable(f"отчёт {parameters['report_id']} не получен принтером")
            calendar = copy_store.school_calendar(connection, school_id)
            pdf = render_report(found.report, school_id, self.font_dir, calendar=calendar,
                                class_names=copy_store.class_names(connection, school_id),
                                printed_at=self.clock())
            title = str(found.report.get("title") or found.report.get("kind") or "отчёт")
            return Printed(pdf, file_names.report_file(title, parameters["report_id"]))
        if kind == "class_journals":
            return self._all_journals(connection, school_id, parameters, on_progress)
        if kind == "student_report":
            class_id = copy_store.class_of_student(connection, school_id,
                                                   parameters["student_id"])
            copy = copy_store.load_class(connection, school_id, class_id)
            _own_class(copy.roster, scope)
            return self._student_report(copy, parameters["student_id"], parameters["term_id"])
        copy = copy_store.load_class(connection, school_id, parameters["class_id"])
        _own_class(copy.roster, scope)
        if kind == "student_reports":
            return self._class_reports(copy, parameters, on_progress)
        if kind == "final_statement":
            statement = build_final_statement(copy)
            return Printed(render_final_statement(statement, self.font_dir,
                                                  self._printed(copy)),
                           file_names.final_statement_file(statement.class_name,
                                                           statement.academic_year))
        if kind == "remarks_sheet":
            journal = build_journal(copy, None, as_of=self._today(copy))
            blank = bool(parameters.get("blank"))
            return Printed(render_remarks_sheet(journal, self.font_dir, blank=blank,
                                                printed=self._printed(copy)),
                           file_names.remarks_sheet_file(journal.class_name,
                                                         journal.academic_year, blank))
        year = parameters.get("year")
        if year and (copy.roster or {}).get("academic_year") != year:
            raise NotPrintable(f"класс {parameters['class_id']} не учится в {year} году")
        return self._journal(copy, parameters.get("term_id"))

    # the documents -------------------------------------------------------------------
    def _today(self, copy: ClassCopy) -> date:
        return self.clock().astimezone(school_zone(copy.calendar)).date()

    def _printed(self, copy: ClassCopy) -> str:
        return local_time(self.clock(), school_zone(copy.calendar))

    def _journal(self, copy: ClassCopy, term_id: str | None) -> Printed:
        """The class journal of a term, or of the whole year (no term_id, or the year's)."""
        journal = build_journal(copy, term_id, as_of=self._today(copy))
        whole_year = term_id is None or any(
            t.term_id == term_id and t.kind == "year" for t in terms_of(copy.calendar))
        return Printed(render_journal(journal, self.font_dir, printed=self._printed(copy)),
                       file_names.journal_file(journal.class_name, journal.academic_year,
                                               journal.terms, whole_year))

    def _student_report(self, copy: ClassCopy, student_id: str, term_id: str) -> Printed:
        report = build_student_report(copy, student_id, term_id)
        return Printed(render_student_report(report, self.font_dir, self._printed(copy)),
                       file_names.student_report_file(report.class_name,
                                                      report.student.full_name,
                                                      report.academic_year, report.term))

    def _all_journals(self, connection: Connection, school_id: str,
                      parameters: dict[str, Any],
                      on_progress: Callable[[int, int], None] | None = None) -> Printed:
        """Every class journal of the school for a term (or the year), in class order."""
        rosters = copy_store.school_classes(connection, school_id)
        if not rosters:
            raise NotPrintable("принтеру не известен ни один класс школы (нет class.roster)")
        year = parameters.get("year")
        chosen_rosters = sorted(
            (r for r in rosters if not year or r.get("academic_year") == year),
            key=lambda r: class_sort_key(class_name(str(r["class_id"]), r.get("grade"),
                                                    r.get("class_name"))))
        parts = []
        for roster in chosen_rosters:
            copy = copy_store.load_class(connection, school_id, str(roster["class_id"]))
            printed = self._journal(copy, parameters.get("term_id"))
            parts.append(Part(f"Классный журнал {roster_class_name(copy)}",
                              printed.file_name, printed.pdf))
            if on_progress is not None:
                on_progress(len(parts), len(chosen_rosters))
        if not parts:
            raise NotPrintable(f"нет классов, которые учатся в {year} году")
        calendar = copy_store.school_calendar(connection, school_id)
        terms = terms_of(calendar)
        chosen = [t for t in terms if t.term_id == parameters.get("term_id")]
        period = file_names.period_part(chosen, not chosen or chosen[0].kind == "year")
        school = school_names(school_id, calendar).name
        info = DocumentInfo(title=f"Классные журналы: {school}", subject=f"{school}; {period}",
                            keywords=f"kozomol, journals, {school_id}")
        return self._bundle(parts, info, parameters, file_names.bundle_file(
            "журналы_" + school, str((calendar or {}).get("academic_year", "")), period, "{}"))

    def _class_reports(self, copy: ClassCopy, parameters: dict[str, Any],
                       on_progress: Callable[[int, int], None] | None = None) -> Printed:
        """Every student's term report of a class (for a parents' meeting)."""
        parts = []
        students = class_students(copy)
        for student in students:
            printed = self._student_report(copy, student.student_id, parameters["term_id"])
            parts.append(Part(student.full_name, printed.file_name, printed.pdf))
            if on_progress is not None:
                on_progress(len(parts), len(students))
        if not parts:
            raise NotPrintable(f"в списке класса {copy.class_id} нет учеников")
        name = roster_class_name(copy)
        term = next(t for t in terms_of(copy.calendar) if t.term_id == parameters["term_id"])
        school = school_names(copy.school_id, copy.calendar).name
        info = DocumentInfo(title=f"Отчёты для родителей, класс {name}",
                            subject=f"{term.title}; {school}",
                            keywords=f"kozomol, student reports, {copy.school_id}")
        year = str((copy.roster or {}).get("academic_year", ""))
        return self._bundle(parts, info, parameters, file_names.bundle_file(
            f"{file_names.class_part(name)}_отчёты-родителям", year,
            file_names.period_part([term], False), "{}"))

    @staticmethod
    def _bundle(parts: list[Part], info: DocumentInfo, parameters: dict[str, Any],
                name: str) -> Printed:
        if parameters.get("bundle") == "zip":
            return Printed(one_zip(parts), name.replace(".{}", ".zip"), len(parts))
        return Printed(one_pdf(parts, info), name.replace(".{}", ".pdf"), len(parts))

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
        announce(connection, event_type, school_id, data, self.clock())
