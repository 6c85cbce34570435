"""The read model of the notifier's delivery log: notification.logged events."""

from __future__ import annotations

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import notification_log_view, notifications_view
from shared.db.inserts import conflict_insert
from shared.events.envelope import Event
from shared.events.messages import NotificationLogged

#: Within one attempt the steps come in this order (for events that arrive out of order).
STEP_ORDER = {"queued": 0, "retried": 1, "failed": 2, "sent": 3, "given_up": 3, "cancelled": 4}


def apply_notification_events(connection: Connection, events: list[Event]) -> None:
    for event in events:
        logged = NotificationLogged.from_data(event.data)
        at, status, attempt = logged.at, logged.status, logged.attempt
        connection.execute(conflict_insert(connection, notification_log_view).values(
            event_id=event.id, message_id=logged.message_id, at=at, status=status,
            attempt=attempt, detail=logged.detail).on_conflict_do_nothing(
            index_elements=["event_id"]))
        stamp = f"{at.isoformat()}|{attempt:04d}|{STEP_ORDER.get(status, 5)}"
        row = {"message_id": logged.message_id, "school_id": event.school_id,
               "kind": logged.kind, "channel": logged.channel,
               "recipient_kind": logged.recipient_kind, "recipient_id": logged.recipient_id,
               "student_id": logged.student_id, "subject": logged.subject,
               "status": status, "attempts": attempt, "detail": logged.detail,
               "queued_at": at if status == "queued" else None, "updated_at": at,
               "stamp": stamp}
        current = connection.execute(select(notifications_view.c.stamp,
                                            notifications_view.c.queued_at).where(
            notifications_view.c.message_id == row["message_id"])).first()
        if current is not None:
            if current.stamp >= stamp:
                if status == "queued" and current.queued_at is None:
                    connection.execute(notifications_view.update().where(
                        notifications_view.c.message_id == row["message_id"]).values(
                        queued_at=at))
                continue
            row["queued_at"] = current.queued_at or row["queued_at"]
        statement = conflict_insert(connection, notifications_view).values(**row)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["message_id"],
            set_={k: v for k, v in row.items() if k != "message_id"}))
