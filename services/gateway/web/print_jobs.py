"""``/api/v1/print-jobs``: paper copies printed by the printer service (PDF/A).

``POST`` validates the request, records the job as ``pending`` and sends it to
the printer as a command (``printer.print.request``); ``202`` with the job's
``Location``. The printer announces ``print.completed`` or ``print.failed``,
which the read model picks up; ``GET /api/v1/print-jobs/{id}`` gives the
status (pages, SHA-256), ``/pdf`` the file from the shared file store.

Access: school-scoped tokens only for their school; auditors read only; a
class teacher may print the journal, statement and student reports of their
own class (the printer, which knows the rosters, refuses other classes); a
teacher may print reports made for them. Teachers and class teachers see the
jobs they asked for.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from services.gateway.domain.access import Principal, Role
from services.gateway.domain.heavy_commands import Started
from services.gateway.domain.print_requests import MAY_PRINT, print_request_errors, print_scope
from services.gateway.handlers.print_jobs import record_print_request
from services.gateway.queries import print_jobs, reports
from services.gateway.queries.names import Names, class_known, names_by_school, school_names
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import principal, requires_token
from services.gateway.web.commands import busy, record_command, recording, send_recorded
from services.gateway.web.downloads import download
from services.gateway.web.errors import api_error, unknown_class
from services.gateway.web.formats import iso_utc, listing_limit, refuse_unknown_arguments
from shared.storage import FileNotStored, StorageError

blueprint = Blueprint("print_jobs", __name__, url_prefix="/api/v1")

PDF_TYPE = "application/pdf"
ZIP_TYPE = "application/zip"
OWN_ONLY = frozenset({Role.TEACHER, Role.CLASS_TEACHER})
STATUS_RU = {"pending": "ещё печатается", "failed": "не напечатано"}
#: ``?wait=`` seconds on POST, as for reports: 0 by default (answer at once), at most 30
MAX_WAIT, POLL = 30.0, 0.05


@blueprint.post("/print-jobs")
@requires_token
def request_print_job() -> Response:
    who = principal()
    who.require_write()
    body = request.get_json(silent=True)
    school_id = who.school_filter(body.get("school_id") if isinstance(body, dict) else None)
    errors = print_request_errors(body)
    if not errors and school_id is None:
        errors = {"school_id": ["is required for admin tokens"]}
    if errors:
        return api_error(422, "invalid_body", "задание печати заполнено неверно", errors)
    assert isinstance(body, dict) and school_id is not None
    if (refused := refuse_unknown_arguments(("wait",))) is not None:
        return refused
    try:
        wait = float(request.args.get("wait", 0))
        if not 0 <= wait <= MAX_WAIT:
            raise ValueError(wait)
    except ValueError:
        return api_error(400, "bad_request", f"wait — число секунд не больше {MAX_WAIT:g}")
    kind, parameters = str(body["kind"]), dict(body["parameters"])
    if kind not in MAY_PRINT.get(who.role, frozenset()):
        return api_error(403, "forbidden", f"роль {who.role.value} не может печатать {kind}")
    if who.role in OWN_ONLY and not who.teacher_id:
        return api_error(403, "forbidden", "токен не привязан к учителю")
    engine = gateway_of(current_app).engine
    class_id = parameters.get("class_id")
    if isinstance(class_id, str) and not class_known(engine, school_id, class_id):
        # refused now rather than accepted and failed by the printer a moment later
        return unknown_class(school_id, class_id)
    if kind == "report":
        report = reports.report(engine, parameters["report_id"], school_id)
        if report is None or report["status"] != "ready":
            return api_error(422, "invalid_body", "задание печати заполнено неверно",
                             {"parameters": {"report_id": ["no ready report with this id"]}})
        if who.role in OWN_ONLY and (report["scope"] or {}).get("teacher_id") != who.teacher_id:
            return api_error(403, "forbidden", "этот отчёт сделан не для этого учителя")
    started = start_print_job(who, school_id, kind, parameters)
    if started.busy_with is not None:
        return busy(f"a {kind} print job", started.busy_with)
    job_id, command_id = started.job_id, started.command_id
    # Not sent yet (the broker is away): no result can come within ?wait=; 202 at once.
    done = _await(job_id, wait) if wait > 0 and started.sent else None
    if done is not None:  # finished within ?wait: the job as GET shows it
        response = jsonify({**_item(done), "command_id": command_id})
    else:
        response = jsonify({"id": job_id, "status": "pending", "kind": kind,
                            "parameters": parameters, "command_id": command_id})
        response.status_code = 202
    response.headers["Location"] = f"/api/v1/print-jobs/{job_id}"
    return response


def start_print_job(who: Principal, school_id: str, kind: str,
                    parameters: dict[str, Any]) -> Started:
    """Record a print job and send it to the printer: the API's POST and the console's
    form both print this way (request already validated and allowed for the role)."""
    gateway = gateway_of(current_app)
    job_id = f"job-{secrets.token_hex(12)}"
    requested_by = f"{who.role.value}:{who.token_id}"
    # The pending job, its slot and the command: recorded together, or not at all.
    with recording() as connection:
        holder = record_print_request(
            connection, job_id=job_id, school_id=school_id, kind=kind, parameters=parameters,
            requested_by=requested_by,
            teacher_id=who.teacher_id if who.role in OWN_ONLY else None, now=gateway.now())
        if holder is not None:
            return Started(job_id, busy_with=holder)
        command_id = record_command(connection, school_id, "printer", "print.request", {
            "job_id": job_id, "kind": kind, "parameters": parameters,
            "requested_by": requested_by, "scope": print_scope(who)})
    return Started(job_id, command_id, sent=send_recorded())


def _await(job_id: str, wait: float) -> Any:
    """The job's row once it is completed or failed; None if ``wait`` seconds passed."""
    deadline = time.monotonic() + wait
    engine = gateway_of(current_app).engine
    while True:
        row = print_jobs.job(engine, job_id)
        if row is not None and row["status"] != "pending":
            return row
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL)


@blueprint.get("/print-jobs")
@requires_token
def list_print_jobs() -> Response:
    """Print jobs of the school, newest first (filters kind, status; limit up to 200)."""
    who = principal()
    args = request.args
    if (refused := refuse_unknown_arguments(("school_id", "kind", "status", "limit"))
            ) is not None:
        return refused
    school_id = who.school_filter(args.get("school_id"))
    engine = gateway_of(current_app).engine
    rows = print_jobs.listing(
        engine, school_id, {name: args[name] for name in print_jobs.LISTING_FILTERS
                            if name in args}, listing_limit(),
        teacher_id=(who.teacher_id or "") if who.role in OWN_ONLY else None)
    names = names_by_school(engine, (row["school_id"] for row in rows))
    return jsonify({"items": [_named(_item(row), names[row["school_id"]]) for row in rows]})


@blueprint.get("/print-jobs/<job_id>")
@requires_token
def get_print_job(job_id: str) -> Response:
    row = _visible_job(principal(), job_id)
    if row is None:
        return api_error(404, "not_found", f"задания печати {job_id} нет", {"id": job_id})
    body = _named(_item(row), school_names(gateway_of(current_app).engine, row["school_id"]))
    response = jsonify(body)
    if row["status"] == "pending":
        response.headers["Retry-After"] = "2"
    return response


@blueprint.get("/print-jobs/<job_id>/pdf")
@requires_token
def get_print_job_pdf(job_id: str) -> Response:
    row = _visible_job(principal(), job_id)
    if row is None:
        return api_error(404, "not_found", f"задания печати {job_id} нет", {"id": job_id})
    if row["status"] != "completed":
        state = STATUS_RU.get(row["status"], row["status"])
        return api_error(409, "not_ready", f"задание печати {job_id}: {state}",
                         {"status": row["status"], "error": row["error"]})
    try:
        found = printed_file(row)
    except StorageError:
        return api_error(503, "unavailable", "хранилище файлов недоступно; повторите позже",
                         headers={"Retry-After": "30"})
    if found is None:
        return api_error(404, "not_found", "напечатанный файл больше не хранится")
    body, content_type, name = found
    response = download(body, content_type, name)
    response.headers["X-Content-SHA256"] = row["sha256"] or ""
    return response


def download_name(file_key: str | None, kind: str, job_id: str) -> str:
    """The readable name the printer gave the file (the last part of its key:
    «5А_журнал_2026-2027_I-четверть.pdf»); files printed before it did: kind and job."""
    last = (file_key or "").rsplit("/", 1)[-1]
    if last and last != f"{job_id}.pdf":
        return last
    return f"{kind}-{job_id}.pdf"


def visible_job(who: Principal, job_id: str) -> Any:
    """The job if the principal (token or console user) may see it."""
    return _visible_job(who, job_id)


def printed_file(row: Any) -> tuple[bytes, str, str] | None:
    """(body, content type, download name) of a completed job's file; None when it is not
    this job's or no longer stored. Raises StorageError when the store is unavailable."""
    # The printer keeps a school's PDFs under pdf/<school>/; any other key (another
    # school's file, a backup archive) is not this job's, whoever announced it.
    if not str(row["file_key"] or "").startswith(f"pdf/{row['school_id']}/"):
        return None
    try:
        body = gateway_of(current_app).files.get(row["file_key"])
    except FileNotStored:
        return None
    name = download_name(row["file_key"], row["kind"], row["id"])
    return body, ZIP_TYPE if name.endswith(".zip") else PDF_TYPE, name


def _visible_job(who: Principal, job_id: str) -> Any:
    row = print_jobs.job(gateway_of(current_app).engine, job_id)
    if row is None or not who.sees_school(row["school_id"]):
        return None
    if who.role in OWN_ONLY and (who.teacher_id is None or row["teacher_id"] != who.teacher_id):
        return None
    return row


def _named(item: dict[str, Any], names: Names) -> dict[str, Any]:
    """The job with the school's and the class's names beside their ids, and the file's
    readable name."""
    class_id = (item.get("parameters") or {}).get("class_id")
    return {**item, "school_name": names.school,
            "class_name": names.class_name(class_id) if class_id else None,
            "file_name": download_name(item.get("file_key"), item["kind"], item["id"])
            if item.get("file_key") else None}


def _item(row: Any) -> dict[str, Any]:
    item = {name: row[name] for name in ("id", "school_id", "kind", "status", "parameters",
                                         "requested_by", "file_key", "sha256", "pages",
                                         "bytes", "error")}
    item["requested_at"] = iso_utc(row["requested_at"])
    item["finished_at"] = iso_utc(row["finished_at"])
    item["pdf"] = f"/api/v1/print-jobs/{row['id']}/pdf" if row["status"] == "completed" \
        else None
    # a batch: how many of its documents are printed (while pending, and when done)
    item["progress"] = {"done": row["documents_done"], "total": row["documents_total"]} \
        if row["documents_total"] else None
    return item
