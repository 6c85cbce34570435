"""``/api/v1/reports``: the monitoring reports of clause 4.2, made by the checker.

``POST`` records the request, sends it to the checker as a command and waits
(``?wait=``, 10 s by default, at most 30) for the report to come back through
the read model: ``200`` with the report when it came in time, otherwise
``202`` with its ``Location`` to ask again. ``GET /api/v1/reports/{id}`` gives
it as JSON, or one table as CSV / all tables as XLSX (``?format=``).

Scope: a teacher's token asks for and sees only reports of their own lessons, a
class teacher's also of their classes (the checker narrows the figures); a
director's, deputy's or auditor's token the whole school.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from natsort import natsort_keygen

from services.gateway.domain.access import Principal, Role
from services.gateway.domain.heavy_commands import Started
from services.gateway.domain.report_requests import request_errors
from services.gateway.handlers.reports import record_report_request
from services.gateway.queries import reports
from services.gateway.queries.names import Names, class_known, school_names
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import principal, requires_token
from services.gateway.web.commands import busy, record_command, recording, send_recorded
from services.gateway.web.downloads import CSV_TYPE, XLSX_TYPE, Sheet, csv_body, download, xlsx_body
from services.gateway.web.errors import api_error, unknown_class
from services.gateway.web.formats import iso_utc, listing_limit, refuse_unknown_arguments

blueprint = Blueprint("reports", __name__, url_prefix="/api/v1")
#: a report column's format -> the workbook's column format (downloads.NUMBER_FORMATS)
FORMATS = {"percent": "percent", "decimal": "decimal", "integer": "integer", "date": "date"}
class_sort_key = natsort_keygen()

DEFAULT_WAIT, MAX_WAIT, POLL = 10.0, 30.0, 0.02
SCOPED = frozenset({Role.TEACHER, Role.CLASS_TEACHER})


@blueprint.post("/reports")
@requires_token
def request_report() -> Response:
    who = principal()
    body = request.get_json(silent=True)
    school_id = who.school_filter(body.get("school_id") if isinstance(body, dict) else None)
    errors, parameters = request_errors(body)
    if not errors and school_id is None:
        errors = {"school_id": ["is required for admin tokens"]}
    if errors:
        return api_error(422, "invalid_body", "запрос отчёта заполнен неверно", errors)
    assert isinstance(body, dict) and school_id is not None
    try:
        wait = _wait()
    except ValueError:
        return api_error(400, "bad_request", f"wait — число секунд не больше {MAX_WAIT:g}")
    scope = _scope(who)
    if who.role in SCOPED and scope is None:
        return api_error(403, "forbidden", "токен не привязан к учителю")
    class_id = parameters.get("class_id")
    if isinstance(class_id, str) and not class_known(gateway_of(current_app).engine, school_id,
                                                     class_id):
        # refused now rather than accepted and failed by the checker a moment later
        return unknown_class(school_id, class_id)
    started = start_report(who, school_id, str(body["kind"]), parameters)
    if started.busy_with is not None:
        return busy(f"a {body['kind']} report", started.busy_with)
    # Not sent yet (the broker is away): the relay sends it later, so no result can come
    # within ?wait=; answer 202 at once.
    return _answer(_await(started.job_id, wait if started.sent else 0.0), started.job_id)


def start_report(who: Principal, school_id: str, kind: str,
                 parameters: dict[str, Any]) -> Started:
    """Record a report request and send it to the checker: the API's POST and the
    console's form both ask for reports this way (parameters already validated)."""
    scope = _scope(who)
    report_id = f"rep-{secrets.token_hex(12)}"
    requested_by = f"{who.role.value}:{who.token_id}"
    gateway = gateway_of(current_app)
    # The pending report, its slot and the command: recorded together, or not at all.
    with recording() as connection:
        holder = record_report_request(
            connection, report_id=report_id, school_id=school_id, kind=kind,
            parameters=parameters, scope=scope, requested_by=requested_by, now=gateway.now())
        if holder is not None:
            return Started(report_id, busy_with=holder)
        command_id = record_command(connection, school_id, "checker", "report.request", {
            "report_id": report_id, "kind": kind, "parameters": parameters,
            "scope": scope, "requested_by": requested_by})
    return Started(report_id, command_id, sent=send_recorded())


@blueprint.get("/reports")
@requires_token
def list_reports() -> Response:
    """Reports of the school, newest first (without their content)."""
    who = principal()
    args = request.args
    if (refused := refuse_unknown_arguments(
            ("school_id", "limit", "kind", "status", "requested_by"))) is not None:
        return refused
    school_id = who.school_filter(args.get("school_id"))
    rows = reports.listing(gateway_of(current_app).engine, school_id,
                           {name: args[name] for name in reports.LISTING_FILTERS if name in args},
                           listing_limit())
    return jsonify({"items": [_meta(row) for row in rows if _visible_to(who, row)]})


@blueprint.get("/reports/<report_id>")
@requires_token
def get_report(report_id: str) -> Response:
    if (refused := refuse_unknown_arguments(("wait", "format", "table"))) is not None:
        return refused
    try:
        wait = _wait(default=0.0)
    except ValueError:
        return api_error(400, "bad_request", f"wait — число секунд не больше {MAX_WAIT:g}")
    row = _await(report_id, wait)
    if row is None or not _visible_to(principal(), row):
        return api_error(404, "not_found", f"отчёта {report_id} нет", {"id": report_id})
    wanted = request.args.get("format", "json")
    if row["status"] == "ready" and wanted in ("csv", "xlsx"):
        content = row["content"]
        school = school_names(gateway_of(current_app).engine, row["school_id"])
        sheets = _sheets(content, school, typed=wanted == "xlsx")
        stem = "_".join(str(content.get("title") or content["kind"]).split())
        if wanted == "xlsx":
            return download(xlsx_body(sheets), XLSX_TYPE, f"{stem}_{report_id}.xlsx")
        names = [table["name"] for table in content["tables"]]
        chosen = request.args.get("table", names[0] if names else "")
        if chosen not in names:
            return api_error(400, "bad_request", f"table — одна из таблиц: {', '.join(names)}")
        return download(csv_body(sheets[names.index(chosen)]), CSV_TYPE,
                        f"{stem}_{chosen}_{report_id}.csv")
    if wanted not in ("json", "csv", "xlsx"):
        return api_error(406, "unsupported_format",
                         f"формат {wanted} не поддерживается; есть json, csv, xlsx "
                         "(PDF — заданием печати kind report)", {"format": ["json", "csv", "xlsx"]})
    return _answer(row, report_id)


def _answer(row: Any, report_id: str) -> Response:
    body = _meta(row)
    if row["status"] == "ready":
        body["report"] = row["content"]
    response = jsonify(body)
    response.status_code = 202 if row["status"] == "pending" else 200
    if row["status"] == "pending":
        response.headers["Location"] = f"/api/v1/reports/{report_id}"
        response.headers["Retry-After"] = "1"
    return response


def _await(report_id: str, wait: float) -> Any:
    """The report's row, once it is no longer pending or ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    engine = gateway_of(current_app).engine
    while True:
        row = reports.report(engine, report_id)
        if row is None or row["status"] != "pending" or time.monotonic() >= deadline:
            return row
        time.sleep(POLL)


def _wait(default: float = DEFAULT_WAIT) -> float:
    wait = float(request.args.get("wait", default))
    if not 0 <= wait <= MAX_WAIT:
        raise ValueError(wait)
    return wait


def _scope(who: Principal) -> dict[str, Any] | None:
    if who.role in SCOPED and who.teacher_id:
        return {"role": who.role.value, "teacher_id": who.teacher_id}
    return None


def report_visible_to(who: Principal, row: Any) -> bool:
    """Whether the principal (token or console user) may see this report."""
    return _visible_to(who, row)


def _visible_to(who: Principal, row: Any) -> bool:
    if not who.sees_school(row["school_id"]):
        return False
    if who.role in SCOPED:  # only the reports made for this teacher's view
        return (row["scope"] or {}).get("teacher_id") == who.teacher_id and \
            who.teacher_id is not None
    return True


def _meta(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "school_id": row["school_id"], "kind": row["kind"],
            "status": row["status"], "parameters": row["parameters"], "scope": row["scope"],
            "requested_by": row["requested_by"], "requested_at": iso_utc(row["requested_at"]),
            "generated_at": iso_utc(row["generated_at"]), "error": row["error"]}


def report_sheets(content: dict[str, Any], names: Names | None = None, *,
                  typed: bool = False) -> list[Sheet]:
    """The report's tables as the API's downloads lay them out (the console's too)."""
    return _sheets(content, names, typed=typed)


def _sheets(content: dict[str, Any], names: Names | None = None, *,
            typed: bool = False) -> list[Sheet]:
    """One sheet per table: classes by the names the school writes, in natural order
    (1 «А» … 11 «Б»), their ids in an extra last column; shares as numbers a workbook
    formats as percentages (``typed``), or as the report holds them (CSV)."""
    names = names or Names()
    heading = [[names.school or content.get("school_id", "")], [content["title"]],
               *content.get("summary", [])]
    sheets = []
    for table in content["tables"]:
        columns = list(table["columns"])
        keys = [c["key"] for c in columns]
        rows = list(table["rows"])
        has_class = "class_id" in keys
        if has_class:
            rows.sort(key=lambda r: class_sort_key(names.class_name(r.get("class_id"))))
        titles = [c["title"] for c in columns] + (["class_id"] if has_class else [])
        body = [[names.class_name(row.get(k)) if k == "class_id" else row.get(k)
                 for k in keys] + ([row.get("class_id")] if has_class else [])
                for row in rows]
        formats = {i: FORMATS[c["format"]] for i, c in enumerate(columns)
                   if typed and c.get("format") in FORMATS}
        sheets.append(Sheet(table["title"], titles, body, heading_lines=heading,
                            formats=formats))
    return sheets
