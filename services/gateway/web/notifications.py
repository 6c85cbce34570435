"""``/api/v1/notifications``: the notifier's delivery log, for the school's administrators.

The gateway keeps it from the notifier's ``notification.logged`` events (a read
model; it never reads the notifier's tables): each message with its latest
status (queued, failed with the reason, retried, sent, given up, cancelled) and,
for one message, every step. Readers: admin, director, deputy director, auditor.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from services.gateway.domain.access import INTAKE_READERS
from services.gateway.queries import notifications
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import principal, requires_token
from services.gateway.web.errors import api_error
from services.gateway.web.formats import iso_utc, listing_limit

blueprint = Blueprint("notifications", __name__, url_prefix="/api/v1")


@blueprint.get("/notifications")
@requires_token
def list_notifications() -> Response:
    """Messages of the school, newest change first (filters: ``LISTING_FILTERS``; limit up
    to 200)."""
    who = principal()
    who.require(INTAKE_READERS)
    school_id = who.school_filter(request.args.get("school_id"))
    rows = notifications.listing(
        gateway_of(current_app).engine, school_id,
        {name: request.args[name] for name in notifications.LISTING_FILTERS
         if name in request.args}, listing_limit())
    return jsonify({"items": [_item(row) for row in rows]})


@blueprint.get("/notifications/<path:message_id>")
@requires_token
def get_notification(message_id: str) -> Response:
    who = principal()
    who.require(INTAKE_READERS)
    engine = gateway_of(current_app).engine
    row = notifications.message(engine, message_id)
    if row is None or not who.sees_school(row["school_id"]):
        return api_error(404, "not_found", "такого сообщения нет")
    item = _item(row)
    item["history"] = [{"at": iso_utc(step["at"]), "status": step["status"],
                        "attempt": step["attempt"], "detail": step["detail"]}
                       for step in notifications.steps(engine, message_id)]
    return jsonify(item)


def _item(row: Any) -> dict[str, Any]:
    item = {name: row[name] for name in ("message_id", "school_id", "kind", "channel",
                                         "recipient_kind", "recipient_id", "student_id",
                                         "subject", "status", "attempts", "detail")}
    item["queued_at"] = iso_utc(row["queued_at"])
    item["updated_at"] = iso_utc(row["updated_at"])
    return item
