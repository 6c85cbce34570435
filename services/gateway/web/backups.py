"""``/api/v1/backups`` and ``/api/v1/archive``: backups and the year-end archive registry.

The backup service owns both. ``POST`` sends it a command (``backup.backup.create``,
``backup.archive.year_end``) and answers ``202``; what it does comes back as
``backup.*`` and ``archive.registered`` events into the gateway's read models,
which the ``GET`` endpoints serve.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from services.gateway.domain.access import BACKUP_MAKERS, BACKUP_READERS, Principal
from services.gateway.domain.heavy_commands import Started
from services.gateway.handlers.backups import record_backup_request
from services.gateway.queries import backups
from services.gateway.queries.names import names_by_school
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import principal, requires_token
from services.gateway.web.commands import (
    accepted,
    busy,
    record_command,
    recording,
    send_command,
    send_recorded,
)
from services.gateway.web.downloads import CSV_TYPE, XLSX_TYPE, Sheet, csv_body, download, xlsx_body
from services.gateway.web.errors import api_error
from services.gateway.web.formats import iso_utc
from shared.events.messages import ALL_SCHOOLS, new_backup_id

blueprint = Blueprint("backups", __name__, url_prefix="/api/v1")

YEAR = re.compile(r"^\d{4}-\d{4}$")
#: Class ids as the contract has them; a year-end run covers at most a whole school.
CLASS_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_CLASSES = 500
REGISTRY_HEADINGS = ("№", "Класс", "Учебный год", "Страниц", "SHA-256", "Дата", "Ответственный",
                     "Файл", "class_id")


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@blueprint.post("/backups")
@requires_token
def create_backup() -> Response:
    """Ask for a backup now: of the token's school, or (admin) of one school or all."""
    who = principal()
    who.require(BACKUP_MAKERS)
    requested = _body().get("school_id")
    scope = who.school_filter(str(requested) if requested else None) or ALL_SCHOOLS
    started = start_backup(who, scope)
    if started.busy_with is not None:
        return busy("a backup", started.busy_with)
    assert started.command_id is not None
    return accepted({"id": started.job_id, "scope": scope, "status": "requested"},
                    started.command_id, f"/api/v1/backups/{started.job_id}")


def start_backup(who: Principal, scope: str) -> Started:
    """Ask the backup service for a backup now: the API's POST and the console's button."""
    backup_id = new_backup_id()
    actor = f"{who.role.value}:{who.token_id}"
    gateway = gateway_of(current_app)
    # The slot, the requested backup and the command: recorded together, or not at all.
    with recording() as connection:
        holder = record_backup_request(connection, backup_id=backup_id, scope=scope,
                                       requested_by=actor, now=gateway.now())
        if holder is not None:
            return Started(backup_id, busy_with=holder)
        command_id = record_command(connection, scope, "backup", "backup.create",
                                    {"backup_id": backup_id, "scope": scope,
                                     "requested_by": actor})
    return Started(backup_id, command_id, sent=send_recorded())


@blueprint.get("/backups")
@requires_token
def list_backups() -> Response:
    """Backups, newest first: a school's own and those of every school (which include it)."""
    who = principal()
    who.require(BACKUP_READERS)
    school_id = who.school_filter(request.args.get("school_id"))
    rows = backups.listing(gateway_of(current_app).engine, school_id)
    return jsonify({"items": [_backup(row) for row in rows], "next_cursor": None})


@blueprint.get("/backups/<backup_id>")
@requires_token
def get_backup(backup_id: str) -> Response:
    who = principal()
    who.require(BACKUP_READERS)
    row = backups.backup(gateway_of(current_app).engine, backup_id)
    if row is None or not (who.all_schools or row["scope"] in (who.school_id, ALL_SCHOOLS)):
        return api_error(404, "not_found", f"резервной копии {backup_id} нет",
                         {"id": backup_id})
    return jsonify(_backup(row))


def _backup(row: Any) -> dict[str, Any]:
    item = {name: row[name] for name in ("id", "scope", "kind", "status", "key", "events",
                                         "bytes", "sha256", "time_range", "problems",
                                         "requested_by")}
    for name in ("requested_at", "created_at", "verified_at"):
        item[name] = iso_utc(row[name]) if row[name] else None
    if row["status"] == "pruned":  # retention deleted the archive: nothing to fetch
        item["pruned_key"], item["key"] = item["key"], None
    return item


@blueprint.post("/archive/year-end")
@requires_token
def year_end() -> Response:
    """Print every class journal of a year and enter each in the archive registry."""
    who = principal()
    who.require(BACKUP_MAKERS)
    body = _body()
    school_id = who.school_filter(body.get("school_id"))
    year = body.get("academic_year")
    errors: dict[str, list[str]] = {}
    if school_id is None:
        errors["school_id"] = ["is required for admin tokens"]
    if not isinstance(year, str) or not YEAR.match(year):
        errors["academic_year"] = ["must look like 2026-2027"]
    responsible = body.get("responsible") or f"{who.role.value}:{who.token_id}"
    if not isinstance(responsible, str) or len(responsible) > 200:
        errors["responsible"] = ["must be a name of at most 200 characters"]
    class_ids = body.get("class_ids")
    if class_ids is not None and not (
            isinstance(class_ids, list) and len(class_ids) <= MAX_CLASSES
            and all(isinstance(c, str) and CLASS_ID.match(c) for c in class_ids)):
        errors["class_ids"] = [f"must be a list of at most {MAX_CLASSES} class ids"]
    if errors:
        return api_error(422, "invalid_body", "запрос годового архива заполнен неверно", errors)
    assert school_id is not None
    # Needs no slot: the backup service coalesces it, asking the printer only for the
    # classes not yet requested (a repeat re-asks only what failed).
    command_id = send_command(school_id, "backup", "archive.year_end", {
        "academic_year": year, "requested_by": responsible,
        "class_ids": class_ids or None})
    return accepted({"school_id": school_id, "academic_year": year}, command_id,
                    f"/api/v1/archive?school_id={school_id}&academic_year={year}")


@blueprint.get("/archive")
@requires_token
def archive_registry() -> Response:
    """The archive registry: JSON, or printable as CSV / XLSX (``?format=``)."""
    who = principal()
    who.require(BACKUP_READERS)
    school_id = who.school_filter(request.args.get("school_id"))
    year = request.args.get("academic_year")
    engine = gateway_of(current_app).engine
    rows = backups.archive_registry(engine, school_id, year)
    names = names_by_school(engine, (row["school_id"] for row in rows))
    fmt = request.args.get("format", "json")
    if fmt in ("csv", "xlsx"):
        typed = fmt == "xlsx"
        school = names[school_id].school if school_id in names else (school_id or "все")
        sheet = Sheet(title="Реестр архива", headings=REGISTRY_HEADINGS, rows=[
            (row["registry_number"], names[row["school_id"]].class_name(row["class_id"]),
             row["academic_year"], row["pages"], row["sha256"],
             row["registered_at"] if typed else (iso_utc(row["registered_at"]) or "")[:10],
             row["responsible"], (row["pdf_key"] or "").rsplit("/", 1)[-1], row["class_id"])
            for row in rows], heading_lines=[("Школа", school)],
            formats={5: "date"} if typed else {})
        name = f"archive-registry-{school_id or 'all'}"
        if fmt == "csv":
            return download(csv_body(sheet), CSV_TYPE, f"{name}.csv")
        return download(xlsx_body([sheet]), XLSX_TYPE, f"{name}.xlsx")
    if fmt != "json":
        return api_error(400, "bad_request", "format — json, csv или xlsx")
    return jsonify({"items": [{
        **{name: row[name] for name in ("registry_number", "number", "school_id", "class_id",
                                        "academic_year", "pages", "sha256", "pdf_key",
                                        "responsible", "job_id")},
        "class_name": names[row["school_id"]].class_name(row["class_id"]),
        "registered_at": iso_utc(row["registered_at"])} for row in rows], "next_cursor": None})
