"""``/api/v1/rules`` and ``/api/v1/findings``: the catalog and the checker's findings.

Findings come from the gateway's read model (finding.* events); a status change
is sent to the checker as a command, which owns the findings, and comes back as
a ``finding.updated`` event a moment later.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from services.gateway.domain.access import Principal, Role
from services.gateway.domain.remarks import COLUMNS_RU, WIDTHS, remarks_sheet
from services.gateway.queries import findings, tokens
from services.gateway.queries.findings import FindingsFilter
from services.gateway.queries.names import Names, class_known, names_by_school, school_names
from services.gateway.queries.rule_parameters import school_parameters
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import principal, requires_token
from services.gateway.web.commands import accepted, send_command
from services.gateway.web.downloads import CSV_TYPE, XLSX_TYPE, Sheet, csv_body, download, xlsx_body
from services.gateway.web.errors import api_error, unknown_class
from services.gateway.web.formats import (
    iso_utc,
    listing_limit,
    parse_date,
    refuse_unknown_arguments,
)
from shared.events import rules
from shared.events.messages import FINDING_PLAIN_FIELDS as ITEM_FIELDS
from shared.events.rules import CATALOG, RULE_PARAMETERS, parameter_defaults, parameter_errors

blueprint = Blueprint("findings", __name__, url_prefix="/api/v1")

FILTERS = ("class_id", "subject_id", "teacher_id", "student_id", "rule", "severity", "status")
STATUS_CHANGES = ("fixed", "waived", "open")
#: roles as a history names them
ROLE_RU = {Role.ADMIN: "администратор", Role.DIRECTOR: "директор",
           Role.DEPUTY: "заместитель директора", Role.CLASS_TEACHER: "классный руководитель",
           Role.TEACHER: "учитель", Role.AUDITOR: "проверяющий"}
REMARK_FORMATS = ("json", "csv", "xlsx")
DECIDERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})


@blueprint.get("/rules")
@requires_token
def list_rules() -> Response:
    """The catalog, with the parameters in force for the school (defaults otherwise)."""
    school_id = principal().school_filter(request.args.get("school_id"))
    own = school_parameters(gateway_of(current_app).engine, school_id) \
        if school_id is not None else {}
    values = {**parameter_defaults(), **own}
    return jsonify({"school_id": school_id, "items": [
        {"id": rule.id, "title": rules.rule_title(rule.id), "clause": rule.clause,
         "severity": rule.severity,
         "responsible": rule.responsible, "text": rule.text,
         "parameters": {name: values[name] for name in RULE_PARAMETERS.get(rule.id, ())}}
        for rule in CATALOG.values()], "next_cursor": None})


@blueprint.put("/rules/parameters")
@requires_token
def change_parameters() -> Response:
    """A director or deputy changes the school's parameters; the checker applies them."""
    who = principal()
    who.require(frozenset({Role.DIRECTOR, Role.DEPUTY, Role.ADMIN}))
    body = request.get_json(silent=True)
    school_id = who.school_filter(body.get("school_id") if isinstance(body, dict) else None)
    values = body.get("parameters") if isinstance(body, dict) else None
    if school_id is None:
        return api_error(422, "invalid_body", "для токена администратора нужен school_id",
                         {"school_id": ["is required"]})
    errors = parameter_errors(values)
    if errors:
        return api_error(422, "invalid_body", "параметры заданы неверно", errors)
    return accepted({"school_id": school_id, "requested_parameters": values},
                    send_parameters_change(who, school_id, values))


def send_parameters_change(who: Principal, school_id: str, values: Any) -> str:
    """The command the checker (which owns the parameters) applies, already checked by
    ``parameter_errors``, recorded; its id. The API's PUT and the console's settings form
    send it."""
    return send_command(school_id, "checker", "rules.parameters.update",
                        {"parameters": values, "actor": f"{who.role.value}:{who.token_id}"})


@blueprint.get("/findings")
@requires_token
def list_findings() -> Response:
    who = principal()
    args = request.args
    if (refused := refuse_unknown_arguments(
            ("school_id", "limit", "date_from", "date_to", "cursor", "include_withdrawn",
             *FILTERS))) is not None:
        return refused
    school_id = who.school_filter(args.get("school_id"))
    limit = listing_limit(100, 500)
    try:
        date_from = parse_date(args["date_from"]) if "date_from" in args else None
        date_to = parse_date(args["date_to"]) if "date_to" in args else None
        after = _decode_cursor(args["cursor"]) if "cursor" in args else None
    except (ValueError, binascii.Error):
        return api_error(400, "bad_request", "date_from, date_to или cursor заданы неверно "
                                             "(даты: ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)")
    wanted = FindingsFilter(
        school_id=school_id,
        equal={name: args[name] for name in FILTERS if name in args},
        date_from=date_from, date_to=date_to,
        include_withdrawn=args.get("include_withdrawn") == "true")
    engine = gateway_of(current_app).engine
    rows = findings.page(engine, who, wanted, after, limit)
    names = names_by_school(engine, (row["school_id"] for row in rows[:limit]))
    items = [_named(_item(row), names[row["school_id"]]) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = _encode_cursor(last["date"], last["id"]) if last is not None else None
    return jsonify({"items": items, "next_cursor": next_cursor})


@blueprint.get("/findings/<finding_id>")
@requires_token
def get_finding(finding_id: str) -> Response:
    row = visible_finding(finding_id)
    if row is None:
        return api_error(404, "not_found", f"замечания {finding_id} нет")
    names = school_names(gateway_of(current_app).engine, row["school_id"])
    return jsonify({**_named(_item(row), names), "history": row["history"]})


@blueprint.patch("/findings/<finding_id>")
@requires_token
def change_finding(finding_id: str) -> Response:
    who = principal()
    who.require(DECIDERS)
    row = visible_finding(finding_id)
    if row is None:
        return api_error(404, "not_found", f"замечания {finding_id} нет")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(422, "invalid_body", "нужен объект JSON",
                         {"_schema": ["expected {status, comment}"]})
    status, comment = body.get("status"), body.get("comment")
    problem = finding_change_problem(status, comment)
    if problem is not None:
        return api_error(422, "invalid_body", *problem)
    command_id = send_finding_change(row["school_id"], finding_id, str(status), comment,
                                     _actor(who))
    return accepted({"id": finding_id, "requested_status": status}, command_id)


def finding_change_problem(status: Any, comment: Any) -> tuple[str, dict[str, list[str]]] | None:
    """What is wrong with a requested status change (message, field errors), or None.

    The API's PATCH and the console's form both ask this."""
    if status not in STATUS_CHANGES:
        return "неизвестный статус", {"status": [f"must be one of {', '.join(STATUS_CHANGES)}"]}
    if comment is not None and not isinstance(comment, str):
        return "comment должен быть текстом", {"comment": ["text"]}
    if status == "waived" and not (comment or "").strip():
        return ("чтобы снять замечание, нужно обоснование (comment)",
                {"comment": ["required when waiving"]})
    return None


def send_finding_change(school_id: str, finding_id: str, status: str, comment: str | None,
                        actor: str) -> str:
    """The command the checker (which owns findings) applies, recorded; its id."""
    return send_command(school_id, "checker", "finding.update",
                        {"finding_id": finding_id, "status": status, "comment": comment,
                         "actor": actor})


def visible_finding(finding_id: str) -> Any:
    """The finding if the current principal (token or console user) may see it."""
    return findings.visible(gateway_of(current_app).engine, principal(), finding_id)


def _actor(who: Principal) -> str:
    """Who changed a finding, as its history shows: role and name (the token's label, or
    the teacher it is bound to), then the token id for the audit trail."""
    engine = gateway_of(current_app).engine
    token = tokens.find(engine, who.token_id) or {}
    name = str(token.get("label") or "")
    if not name and who.teacher_id and who.school_id:
        name = school_names(engine, who.school_id).teacher(who.teacher_id)
    role = ROLE_RU.get(who.role, who.role.value)
    return f"{role} {name} (токен {who.token_id})" if name else \
        f"{role} (токен {who.token_id})"


def _named(item: dict[str, Any], names: Names) -> dict[str, Any]:
    """A finding with the names beside its ids (the ids stay for programs)."""
    return {**item, "rule_title": rules.rule_title(item["rule"]),
            "class_name": names.class_name(item.get("class_id")),
            "subject_name": names.subject(item.get("subject_id")),
            "teacher_name": names.teacher(item.get("teacher_id"))}




def _item(row: Any) -> dict[str, Any]:
    item = {name: row[name] for name in ITEM_FIELDS}
    item["date"] = row["date"].isoformat()
    item["detected_at"] = iso_utc(row["detected_at"])
    return item


def _encode_cursor(day: date, finding_id: str) -> str:
    return base64.urlsafe_b64encode(f"f|{day.isoformat()}|{finding_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[date, str]:
    kind, day, finding_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
    if kind != "f":
        raise ValueError(cursor)
    return date.fromisoformat(day), finding_id


@blueprint.get("/classes/<class_id>/remarks-sheet")
@requires_token
def class_remarks_sheet(class_id: str) -> Response:
    """The class journal's remarks sheet: JSON, or ``?format=csv`` / ``?format=xlsx``.

    The PDF is a print job (``kind: remarks_sheet``, also blank): asking for it here
    answers 406 and says so, rather than some other format."""
    who = principal()
    if (refused := refuse_unknown_arguments(("school_id", "format"))) is not None:
        return refused
    wanted = request.args.get("format", "json")
    if wanted not in REMARK_FORMATS:
        hint = (" Лист замечаний в PDF печатается заданием печати: POST /api/v1/print-jobs "
                '{"kind": "remarks_sheet", "parameters": {"class_id": …}}.'
                if wanted == "pdf" else "")
        return api_error(406, "unsupported_format",
                         f"формат {wanted} не поддерживается; есть json, csv, xlsx.{hint}",
                         {"format": list(REMARK_FORMATS)})
    school_id = who.school_filter(request.args.get("school_id"))
    if school_id is None:
        return api_error(422, "invalid_body", "для токена администратора нужен school_id",
                         {"school_id": ["is required"]})
    engine = gateway_of(current_app).engine
    if not class_known(engine, school_id, class_id):
        return unknown_class(school_id, class_id)
    found = [{**_item(row), "history": row["history"]}
             for row in findings.of_class(engine, who, school_id, class_id)]
    names = school_names(engine, school_id)
    rows = remarks_sheet(found, names.teachers, names.subjects)
    class_name = names.class_name(class_id)
    sheet = Sheet(f"Листок замечаний {class_name}", COLUMNS_RU,
                  [row.typed_cells() for row in rows], widths=WIDTHS,
                  heading_lines=[[names.school], [f"Листок замечаний, класс {class_name}"]],
                  formats={1: "date", 6: "date"})
    file_stem = f"{class_name}_лист-замечаний".replace(" ", "").replace("«", "").replace(
        "»", "")
    if wanted == "csv":
        text_sheet = Sheet(sheet.title, COLUMNS_RU, [row.cells() for row in rows],
                           heading_lines=sheet.heading_lines)
        return download(csv_body(text_sheet), CSV_TYPE, f"{file_stem}.csv")
    if wanted == "xlsx":
        return download(xlsx_body([sheet]), XLSX_TYPE, f"{file_stem}.xlsx")
    return jsonify({"school_id": school_id, "school_name": names.school,
                    "class_id": class_id, "class_name": class_name, "columns": COLUMNS_RU,
                    "rows": [list(row.cells()) for row in rows]})
