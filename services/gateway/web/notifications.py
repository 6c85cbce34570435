"""``/api/v1/notifications``: the notifier's delivery log, for the school's administrators.

The gateway keeps it from the notifier's ``notification.logged`` events (a read
model; it never reads the notifier's tables): each message with its latest
status (queued, failed with the reason, retried, sent, given up, cancelled) and,
for one message, every step. Readers: admin, director, deputy director, auditor.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from services.gateway.adapters.tables import notification_log_view, notifications_view
from services.gateway.domain.access import INTAKE_READERS
from services.gateway.runtime import gateway_of
from services.gateway.web.auth import principal, requires_token
from services.gateway.web.errors import api_error
from services.gateway.web.formats import iso_utc, listing_limit

blueprint = Blueprint("notifications", __name__, url_prefix="/api/v1")
FILTERS = ("status", "kind", "channel", "recipient_kind", "recipient_id")


@blueprint.get("/notifications")
@requires_token
def list_notifications() -> Response:
    """Messages of the school, newest change first (filters: FILTERS; limit up to 200)."""
    who = principal()
    who.require(INTAKE_READERS)
    school_id = who.school_filter(request.args.get("school_id"))
    query = select(notifications_view).order_by(
        notifications_view.c.updated_at.desc(), notifications_view.c.message_id).limit(
        listing_limit())
    if school_id is not None:
        query = query.where(notifications_view.c.school_id == school_id)
    for name in FILTERS:
        if name in request.args:
            query = query.where(notifications_view.c[name] == request.args[name])
    with gateway_of(current_app).engine.connect() as connection:
        rows = [row._mapping for row in connection.execute(query)]
    return jsonify({"items": [_item(row) for row in rows]})


@blueprint.get("/notifications/<path:message_id>")
@requires_token
def get_notification(message_id: str) -> Response:
    who = principal()
    who.require(INTAKE_READERS)
    with gateway_of(current_app).engine.connect() as connection:
        row = connection.execute(select(notifications_view).where(
            notifications_view.c.message_id == message_id)).first()
        if row is None or not who.sees_school(row.school_id):
            return api_error(404, "not_found", "no such message")
        steps = connection.execute(select(notification_log_view).where(
            notification_log_view.c.message_id == message_id).order_by(
            notification_log_view.c.at, notification_log_view.c.attempt)).all()
    item = _item(row._mapping)
    item["history"] = [{"at": iso_utc(s.at), "status": s.status, "attempt": s.attempt,
                        "detail": s.detail} for s in steps]
    return jsonify(item)


def _item(row: Any) -> dict[str, Any]:
    item = {name: row[name] for name in ("message_id", "school_id", "kind", "channel",
                                         "recipient_kind", "recipient_id", "student_id",
                                         "subject", "status", "attempts", "detail")}
    item["queued_at"] = iso_utc(row["queued_at"])
    item["updated_at"] = iso_utc(row["updated_at"])
    return item
