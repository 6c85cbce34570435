"""The notifier's delivery log as the gateway keeps it (``gateway_notifications``,
``gateway_notification_log``), kept by ``handlers/notifications.py``."""

from __future__ import annotations

from sqlalchemy import RowMapping, select

from services.gateway.adapters.tables import notification_log_view, notifications_view
from services.gateway.queries import Source, mapping, reading

#: what a listing may narrow by (equality)
LISTING_FILTERS = ("status", "kind", "channel", "recipient_kind", "recipient_id")


def listing(source: Source, school_id: str | None, equal: dict[str, str],
            limit: int) -> list[RowMapping]:
    """Messages, newest change first; ``school_id`` None: every school."""
    query = select(notifications_view).order_by(
        notifications_view.c.updated_at.desc(), notifications_view.c.message_id).limit(limit)
    if school_id is not None:
        query = query.where(notifications_view.c.school_id == school_id)
    for name, value in equal.items():
        query = query.where(notifications_view.c[name] == value)
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(query)]


def message(source: Source, message_id: str) -> RowMapping | None:
    """A message's latest step."""
    with reading(source) as connection:
        return mapping(connection.execute(select(notifications_view).where(
            notifications_view.c.message_id == message_id)).first())


def steps(source: Source, message_id: str) -> list[RowMapping]:
    """Every step of a message, in order."""
    with reading(source) as connection:
        return [row._mapping for row in connection.execute(select(notification_log_view).where(
            notification_log_view.c.message_id == message_id).order_by(
            notification_log_view.c.at, notification_log_view.c.attempt))]
