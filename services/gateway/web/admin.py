"""The administrators' API under ``/api/v1/``, scoped to each token's school.

An item of another school answers 404 (its existence is not revealed); asking
to list another school's items answers 403.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from services.gateway.adapters.tokens import MAX_LIFETIME_DAYS
from services.gateway.domain.access import INTAKE_READERS, TOKEN_ISSUERS, Role
from services.gateway.handlers import access_log
from services.gateway.queries import intake, tokens
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import asker, principal, requires_token
from services.gateway.web.errors import api_error
from services.gateway.web.formats import iso_utc, listing_limit

blueprint = Blueprint("admin", __name__, url_prefix="/api/v1")

#: Row ids are 64-bit integers (SQLite and PostgreSQL alike): anything larger
#: names no row, and the database drivers refuse to bind it.
MAX_ROW_ID = 2**63 - 1
CURSOR_ID = re.compile(r"[0-9]{1,18}")

DEFAULT_PAGE = 100
MAX_PAGE = 500


@blueprint.get("/me")
@requires_token
def me() -> Response:
    who = principal()
    return jsonify({"token_id": who.token_id, "role": who.role.value, "school_id": who.school_id})


@blueprint.get("/quarantine")
@requires_token
def list_quarantine() -> Response:
    who = principal()
    who.require(INTAKE_READERS)
    school_id = who.school_filter(request.args.get("school_id"))
    limit = listing_limit(DEFAULT_PAGE, MAX_PAGE)
    cursor = request.args.get("cursor")
    rows = intake.quarantine_page(gateway_of(current_app).engine, school_id,
                                  _decode_cursor(cursor) if cursor else None, limit)
    items = [_quarantine_item(row) for row in rows[:limit]]
    next_cursor = _encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None
    return jsonify({"items": items, "next_cursor": next_cursor})


@blueprint.get("/quarantine/<int:item_id>")
@requires_token
def get_quarantine(item_id: int) -> Response:
    who = principal()
    who.require(INTAKE_READERS)
    if not 0 < item_id <= MAX_ROW_ID:  # beyond a 64-bit key there is no such row
        return api_error(404, "not_found", "такой записи в карантине нет")
    row = intake.quarantined(gateway_of(current_app).engine, item_id)
    if row is None or not who.sees_school(row["school_id"]):
        return api_error(404, "not_found", "такой записи в карантине нет")
    return jsonify(_quarantine_item(row))


@blueprint.get("/received-events/<event_id>")
@requires_token
def get_received_event(event_id: str) -> Response:
    who = principal()
    who.require(INTAKE_READERS)
    row = intake.received_event(gateway_of(current_app).engine, event_id)
    if row is None or not who.sees_school(row["school_id"]):
        return api_error(404, "not_found", "такое событие не поступало")
    return jsonify({
        "id": row["event_id"], "school_id": row["school_id"], "type": row["type"],
        "received_at": iso_utc(row["received_at"]), "stored_in": row["stored_in"],
    })


@blueprint.get("/tokens")
@requires_token
def list_tokens() -> Response:
    who = principal()
    who.require(frozenset(TOKEN_ISSUERS))
    school_id = who.school_filter(request.args.get("school_id"))
    rows = tokens.listing(gateway_of(current_app).engine, school_id)
    return jsonify({"items": [_token_item(row) for row in rows], "next_cursor": None})


@blueprint.post("/tokens")
@requires_token
def create_token() -> Response:
    who = principal()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(422, "invalid_body", "нужен объект JSON",
                         {"_schema": ["ожидается {role, school_id, label}"]})
    try:
        role = Role(str(body.get("role")))
    except ValueError:
        return api_error(422, "invalid_body", "неизвестная роль",
                         {"role": [f"одна из: {', '.join(r.value for r in Role)}"]})
    if role not in TOKEN_ISSUERS.get(who.role, frozenset()):
        return api_error(403, "forbidden", f"этот токен не может выдавать токены роли {role.value}")
    school_id = body.get("school_id", None if who.all_schools else who.school_id)
    label = body.get("label")
    if school_id is not None and not isinstance(school_id, str):
        return api_error(422, "invalid_body", "school_id — строка",
                         {"school_id": ["должен быть строкой"]})
    if label is not None and not isinstance(label, str):
        return api_error(422, "invalid_body", "label — строка",
                         {"label": ["должен быть строкой"]})
    if (role is Role.ADMIN) != (school_id is None):
        field_error = ("не указывается для токена администратора" if role is Role.ADMIN
                       else "обязателен")
        return api_error(422, "invalid_body", f"school_id {field_error}",
                         {"school_id": [field_error]})
    if not who.may_issue(role, school_id):
        return api_error(403, "forbidden", "этот токен не может выдать такой токен")
    teacher_id = body.get("teacher_id")
    if role in (Role.TEACHER, Role.CLASS_TEACHER) and not isinstance(teacher_id, str):
        return api_error(422, "invalid_body", "для токена учителя нужен идентификатор учителя",
                         {"teacher_id": ["обязателен для токенов учителя и "
                                         "классного руководителя"]})
    gateway = gateway_of(current_app)
    lifetime = body.get("expires_in_days", gateway.settings.token_lifetime_days)
    if (not isinstance(lifetime, int) or isinstance(lifetime, bool)
            or not 1 <= lifetime <= MAX_LIFETIME_DAYS):
        return api_error(422, "invalid_body", "expires_in_days — целое число дней",
                         {"expires_in_days": [f"целое число от 1 до {MAX_LIFETIME_DAYS}"]})
    # an unknown teacher is refused; a school not heard from yet only warned about
    outcome = access_log.issue_token(
        gateway.engine, asker(), role, school_id, label=label[:200] if label else None,
        teacher_id=teacher_id if isinstance(teacher_id, str) else None, lifetime_days=lifetime)
    issued = outcome.issued
    if issued is None:
        return api_error(422, "unknown_teacher", "; ".join(outcome.refusals),
                         {"teacher_id": outcome.refusals})
    response = jsonify({"id": issued.id, "token": issued.token, "role": issued.role.value,
                        "school_id": issued.school_id,
                        "expires_at": iso_utc(issued.expires_at),
                        "warnings": outcome.warnings})
    response.status_code = 201
    return response


@blueprint.delete("/tokens/<token_id>")
@requires_token
def revoke_token(token_id: str) -> Response:
    outcome = access_log.revoke_token(gateway_of(current_app).engine, asker(), principal(),
                                      token_id)
    if outcome == "not_found":
        return api_error(404, "not_found", "такого токена нет")
    if outcome == "forbidden":
        return api_error(403, "forbidden", "этот токен не может отозвать такой токен")
    return Response(status=204)


def _encode_cursor(item_id: int) -> str:
    return base64.urlsafe_b64encode(f"q{item_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("q") or not CURSOR_ID.fullmatch(raw[1:]):
            raise ValueError(raw)
        return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("cursor is not one this API gave out") from None


def _quarantine_item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"], "received_at": iso_utc(row["received_at"]),
        "school_id": row["school_id"], "event_id": row["event_id"],
        "event_type": row["event_type"], "webhook_id": row["webhook_id"],
        "batch_index": row["batch_index"], "errors": row["errors"],
        "item": orjson.loads(row["body"]),
    }


def _token_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "role": row["role"], "school_id": row["school_id"],
        "label": row["label"], "created_at": iso_utc(row["created_at"]),
        "revoked_at": iso_utc(row["revoked_at"]), "expires_at": iso_utc(row["expires_at"]),
    }
