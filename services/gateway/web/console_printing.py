"""The console's printing: class journals, student reports, final statements and remarks
sheets (one class, or every class as one job); the list of jobs with their status, and
downloads. A form is checked and sent by the API's own code (``print_request_errors``,
``MAY_PRINT``, ``start_print_job``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.gateway.domain.print_requests import MAY_PRINT, PRINT_KINDS, print_request_errors
from services.gateway.queries.names import school_names
from services.gateway.queries.print_jobs import console_print_jobs
from services.gateway.queries.reports import console_report
from services.gateway.web.console import (
    blueprint,
    class_sort_key,
    current_principal,
    page_school,
    reading,
)
from services.gateway.web.downloads import download
from services.gateway.web.print_jobs import (
    OWN_ONLY,
    download_name,
    printed_file,
    start_print_job,
    visible_job,
)
from services.gateway.web.reports import report_visible_to
from shared.storage import StorageError

KINDS_RU = {"class_journal": _l("Классный журнал"), "student_report": _l("Табель ученика"),
            "final_statement": _l("Итоговая ведомость"), "report": _l("Отчёт"),
            "remarks_sheet": _l("Листок замечаний"), "class_journals": _l("Все классные журналы"),
            "student_reports": _l("Табели всех учеников класса")}
STATUS_RU = {"pending": _l("печатается"), "completed": _l("готово"), "failed": _l("не напечатано")}
#: the printing forms: kind -> its fields (all but "report", which a report's page sends)
FORMS = ("class_journal", "final_statement", "student_reports", "student_report",
         "remarks_sheet", "class_journals")


@blueprint.get("/printing")
def printing() -> Any:
    who = current_principal()
    school_id = page_school()
    with reading() as connection:
        jobs = console_print_jobs(connection, who, school_id)
        names = school_names(connection, school_id) if school_id else None
    allowed = MAY_PRINT.get(who.role, frozenset())
    waiting = _waiting(jobs)
    return render_template(
        "console/printing.html", jobs=[_job(row, names) for row in jobs],
        poll_url=url_for("console.printing_state") if waiting else None, poll_state=waiting,
        forms=[(kind, KINDS_RU[kind], PRINT_KINDS[kind]) for kind in FORMS if kind in allowed],
        classes=sorted(names.classes.items(), key=lambda item: class_sort_key(item[1]))
        if names else [])


def _waiting(jobs: list[Any]) -> str:
    """The jobs still printing, with their progress: what the page's state is."""
    return " ".join(f"{row.id}:{row.documents_done or 0}" for row in jobs
                    if row.status == "pending")


@blueprint.get("/printing/state")
def printing_state() -> Any:
    """What console.js asks while jobs print (the list reloads when it changes)."""
    with reading() as connection:
        jobs = console_print_jobs(connection, current_principal(), page_school())
    return jsonify({"state": _waiting(jobs)})


@blueprint.post("/printing")
def request_print() -> Any:
    who = current_principal()
    school_id = page_school()
    kind = request.form.get("kind", "")
    if kind not in PRINT_KINDS or school_id is None:
        abort(404)
    required, optional = PRINT_KINDS[kind]
    parameters: dict[str, Any] = {}
    for name in (*required, *optional):
        value = request.form.get(name, "").strip()
        if name == "blank":
            if value:
                parameters[name] = value == "true"
        elif value:
            parameters[name] = value
    problems = print_request_errors({"kind": kind, "parameters": parameters})
    if problems:
        flash(_("Задание печати заполнено неверно: %(problems)s", problems="; ".join(
            f"{name}: {', '.join(map(str, text))}"
            for name, text in problems.get("parameters", problems).items())), "error")
        return redirect(url_for("console.printing")), 303
    if kind not in MAY_PRINT.get(who.role, frozenset()) or \
            (who.role in OWN_ONLY and not who.teacher_id):
        abort(403)
    if kind == "report":
        with reading() as connection:
            made = console_report(connection, parameters["report_id"])
        if made is None or made["status"] != "ready" or made["school_id"] != school_id or \
                not report_visible_to(who, made):
            abort(404)
    started = start_print_job(who, school_id, kind, parameters)
    if started.busy_with is not None:
        flash(_("Такое задание печати для школы уже выполняется; дождитесь его."), "error")
    else:
        flash(_("Задание печати отправлено: %(kind)s.", kind=KINDS_RU[kind]))
    return redirect(url_for("console.printing")), 303


@blueprint.get("/printing/<job_id>/file")
def printed(job_id: str) -> Any:
    """The printed PDF (or ZIP) of a completed job, as the API's ``/pdf`` gives it."""
    row = visible_job(current_principal(), job_id)
    if row is None or row["status"] != "completed":
        abort(404)
    try:
        found = printed_file(row)
    except StorageError:
        flash(_("Хранилище файлов недоступно, попробуйте позже."), "error")
        return redirect(url_for("console.printing")), 303
    if found is None:
        abort(404)
    body, content_type, name = found
    response = download(body, content_type, name)
    response.headers["X-Content-SHA256"] = row["sha256"] or ""
    return response


def _job(row: Any, names: Any) -> dict[str, Any]:
    parameters = row.parameters or {}
    class_id = parameters.get("class_id")
    return {"id": row.id, "kind": KINDS_RU.get(row.kind, row.kind), "status": row.status,
            "status_ru": STATUS_RU.get(row.status, row.status),
            "what": ", ".join(filter(None, (names.class_name(class_id) if names and class_id
                                            else class_id, parameters.get("term_id"),
                                            parameters.get("year")))),
            "requested_at": row.requested_at, "pages": row.pages, "error": row.error,
            "progress": (row.documents_done, row.documents_total)
            if row.documents_total else None,
            "file_name": download_name(row.file_key, row.kind, row.id) if row.file_key
            else None}
