"""Messages and their delivery log (``notifier_messages``, ``notifier_delivery_log``).

A message's id is its idempotency key plus the channel: queueing the same
message again does nothing, and a message is held by one sender at a time (a
lease, taken in its own committed transaction, with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL). Each result is committed before the next message is sent, so a
notifier killed mid-batch leaves every message either sent and recorded, or
held under a lease that expires and lets any notifier send it.
Every step is logged and announced as ``notification.logged`` (the gateway's
read model of the log).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from services.notifier.adapters.announce import announce
from services.notifier.adapters.tables import delivery_log, messages
from services.notifier.domain.planning import Draft
from shared.db.engine import is_postgresql
from shared.db.inserts import conflict_insert

QUEUED, SENDING, FAILED, SENT, GIVEN_UP, CANCELLED = (
    "queued", "sending", "failed", "sent", "given_up", "cancelled")
#: the log's own steps besides the statuses
RETRIED = "retried"
LOGGED_EVENT = "notification.logged"


@dataclass(frozen=True)
class Outgoing:
    """A queued message as the sender sees it."""

    message_id: str
    school_id: str
    kind: str
    channel: str
    recipient_kind: str
    recipient_id: str
    student_id: str | None
    address: str
    language: str
    subject: str
    body: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def queue(connection: Connection, drafts: Sequence[Draft],
          channels: Sequence[tuple[Draft, str, str]], not_before: dict[str, datetime],
          now: datetime) -> int:
    """Queue each (draft, channel, address); returns how many were new."""
    rows = [{
        "message_id": f"{draft.key}:{channel}", "school_id": draft.school_id,
        "kind": draft.kind, "channel": channel, "recipient_kind": draft.recipient.kind,
        "recipient_id": draft.recipient.person_id, "student_id": draft.recipient.student_id,
        "address": address, "language": draft.recipient.language, "subject": draft.subject,
        "body": draft.body, "payload": draft.payload, "status": QUEUED, "attempts": 0,
        "not_before": not_before[draft.school_id], "created_at": now,
    } for draft, channel, address in channels]
    if not rows:
        return 0
    new = set(connection.execute(conflict_insert(connection, messages).on_conflict_do_nothing(
        index_elements=[messages.c.message_id]).returning(messages.c.message_id),
        rows).scalars())
    by_id = {row["message_id"]: row for row in rows}
    log(connection, [(by_id[m], QUEUED, 0, None) for m in sorted(new)], now)
    return len(new)


def log(connection: Connection, entries: Sequence[tuple[dict[str, Any], str, int, str | None]],
        now: datetime) -> None:
    """Append log entries (message row, status, attempt, detail) and announce them."""
    if not entries:
        return
    connection.execute(insert(delivery_log), [
        {"message_id": row["message_id"], "school_id": row["school_id"], "at": now,
         "status": status, "attempt": attempt, "detail": detail}
        for row, status, attempt, detail in entries])
    announce.many(connection, [(LOGGED_EVENT, row["school_id"], {
        "message_id": row["message_id"], "kind": row["kind"], "channel": row["channel"],
        "recipient_kind": row["recipient_kind"], "recipient_id": row["recipient_id"],
        "student_id": row.get("student_id"), "subject": row["subject"], "status": status,
        "attempt": attempt, "detail": detail, "at": now.isoformat()})
        for row, status, attempt, detail in entries], now)


def claim(engine: Engine, now: datetime, *, limit: int, lease: float) -> list[Outgoing]:
    """Take up to ``limit`` due messages for sending (committed before any is sent)."""
    due = or_(and_(messages.c.status.in_([QUEUED, FAILED]), messages.c.not_before <= now),
              and_(messages.c.status == SENDING, messages.c.lease_until < now))
    with engine.begin() as connection:
        query = select(messages).where(due).order_by(messages.c.not_before,
                                                     messages.c.message_id).limit(limit)
        if is_postgresql(connection):
            query = query.with_for_update(skip_locked=True)
        rows = [r._asdict() for r in connection.execute(query)]
        if not rows:
            return []
        until = now + timedelta(seconds=lease)
        for row in rows:
            connection.execute(update(messages).where(
                messages.c.message_id == row["message_id"]).values(
                status=SENDING, attempts=row["attempts"] + 1, lease_until=until))
        log(connection, [(row, RETRIED, row["attempts"] + 1,
                          "the previous sender stopped while sending"
                          if row["status"] == SENDING else row["last_error"])
                         for row in rows if row["attempts"] > 0], now)
    return [Outgoing(r["message_id"], r["school_id"], r["kind"], r["channel"],
                     r["recipient_kind"], r["recipient_id"], r["student_id"], r["address"],
                     r["language"], r["subject"], r["body"], dict(r["payload"]),
                     r["attempts"] + 1, _aware(r["created_at"])) for r in rows]


def finish(engine: Engine, message: Outgoing, now: datetime, *, error: str | None,
           permanent: bool = False, retry_at: datetime | None = None,
           max_attempts: int) -> str:
    """Record one send's result in its own transaction; returns the new status."""
    with engine.begin() as connection:
        row = connection.execute(select(messages).where(
            messages.c.message_id == message.message_id)).first()
        if row is None or row.status != SENDING:
            return row.status if row is not None else CANCELLED  # cancelled meanwhile
        values: dict[str, Any]
        if error is None:
            status, values = SENT, {"sent_at": now, "last_error": None}
        elif permanent or message.attempts >= max_attempts or retry_at is None:
            status, values = GIVEN_UP, {"last_error": error}
        else:
            status, values = FAILED, {"last_error": error, "not_before": retry_at}
        connection.execute(update(messages).where(messages.c.message_id == message.message_id)
                           .values(status=status, lease_until=None, **values))
        detail = error if status != FAILED else (
            f"{error}; next attempt {retry_at:%Y-%m-%d %H:%M:%S} UTC")
        log(connection, [(row._asdict(), status, message.attempts, detail)], now)
    return status


def cancel(connection: Connection, school_id: str, recipient_kind: str, recipient_id: str,
           now: datetime, *, student_id: str | None = None, reason: str) -> int:
    """An unsubscribe: every message waiting for that person is cancelled at once (one a
    sender holds right now is already on its way and finishes)."""
    where = [messages.c.school_id == school_id, messages.c.recipient_kind == recipient_kind,
             messages.c.recipient_id == recipient_id,
             messages.c.status.in_([QUEUED, FAILED])]
    if student_id is not None:
        where.append(messages.c.student_id == student_id)
    rows = [r._asdict() for r in connection.execute(select(messages).where(*where))]
    if rows:
        connection.execute(update(messages).where(*where).values(status=CANCELLED,
                                                                 lease_until=None))
        log(connection, [(row, CANCELLED, row["attempts"], reason) for row in rows], now)
    return len(rows)


def listing(connection: Connection, school_id: str | None = None, *,
            status: str | None = None) -> list[dict[str, Any]]:
    query = select(messages).order_by(messages.c.created_at, messages.c.message_id)
    if school_id is not None:
        query = query.where(messages.c.school_id == school_id)
    if status is not None:
        query = query.where(messages.c.status == status)
    return [r._asdict() for r in connection.execute(query)]


def history(connection: Connection, message_id: str) -> list[dict[str, Any]]:
    return [r._asdict() for r in connection.execute(select(delivery_log).where(
        delivery_log.c.message_id == message_id).order_by(delivery_log.c.seq))]


def counts(connection: Connection) -> dict[str, int]:
    return {status: int(count) for status, count in connection.execute(select(
        messages.c.status, func.count()).group_by(messages.c.status))}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
