"""``GET /api/v1/audit``: the personal-data access log, for the director (JSON or CSV).

Who read or exported which school's (and, by the ids in ``target``, which
student's or class's) data, when and from where; and who issued or revoked
which token. Directors and auditors see their school's lines, the admin every
school's.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from services.gateway.adapters.audit import ACTIONS
from services.gateway.domain.access import Role
from services.gateway.queries import audit
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import principal, requires_token
from services.gateway.web.downloads import CSV_TYPE, Sheet, csv_body, download
from services.gateway.web.errors import api_error
from services.gateway.web.formats import iso_utc, listing_limit

blueprint = Blueprint("audit", __name__, url_prefix="/api/v1")

AUDIT_READERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.AUDITOR})
CSV_MOST = 100_000
HEADINGS = ("Время (UTC)", "Токен", "Роль", "Школа", "Действие", "Запрос", "Что", "Статус",
            "Адрес")
ACTIONS_RU = {"read": "просмотр", "export": "выгрузка", "write": "изменение",
              "auth.failed": "неудачный вход", "token.issued": "выдан токен",
              "token.revoked": "отозван токен", "user.created": "создан пользователь",
              "user.invite": "приглашение", "user.reset": "сброс пароля",
              "user.disable": "пользователь отключён"}


@blueprint.get("/audit")
@requires_token
def list_audit() -> Response:
    who = principal()
    who.require(AUDIT_READERS)
    school_id = who.school_filter(request.args.get("school_id"))
    action = request.args.get("action")
    if action is not None and action not in ACTIONS:
        return api_error(400, "bad_request", f"action — одно из: {', '.join(ACTIONS)}")
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        return api_error(400, "bad_request", "format — json или csv")
    filters: dict[str, Any] = {
        "school_id": school_id, "token_id": request.args.get("token_id"), "action": action,
        "since": _moment("since"), "until": _moment("until")}
    engine = gateway_of(current_app).engine
    if fmt == "csv":
        rows = audit.lines(engine, **filters, limit=CSV_MOST)
        sheet = Sheet("Журнал доступа", HEADINGS, [_cells(row) for row in rows])
        return download(csv_body(sheet), CSV_TYPE, f"audit-{school_id or 'all'}.csv")
    limit = listing_limit(100, 1000)
    rows = audit.lines(engine, **filters, before_id=_cursor(), limit=limit + 1)
    next_cursor = _encode(rows[limit - 1]["id"]) if len(rows) > limit else None
    return jsonify({"items": [_item(row) for row in rows[:limit]], "next_cursor": next_cursor})


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "at": iso_utc(row["at"]), "token_id": row["token_id"],
            "role": row["role"], "school_id": row["school_id"], "action": row["action"],
            "resource": row["resource"], "target": row["target"], "status": row["status"],
            "address": row["address"]}


def _cells(row: dict[str, Any]) -> list[Any]:
    target = ", ".join(f"{key}={value}" for key, value in (row["target"] or {}).items())
    return [iso_utc(row["at"]), row["token_id"] or "", row["role"] or "",
            row["school_id"] or "", ACTIONS_RU.get(row["action"], row["action"]),
            row["resource"], target, row["status"] if row["status"] is not None else "",
            row["address"] or ""]


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date or time") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} needs a time zone (e.g. 2026-12-01T00:00:00+06:00)")
    return moment


def _encode(line_id: int) -> str:
    return base64.urlsafe_b64encode(f"a{line_id}".encode()).decode().rstrip("=")


def _cursor() -> int | None:
    cursor = request.args.get("cursor")
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("cursor is not one this API gave out") from None
    if not raw.startswith("a") or not raw[1:].isascii() or not raw[1:].isdigit() \
            or len(raw) > 19:
        raise BadRequest("cursor is not one this API gave out")
    return int(raw[1:])
