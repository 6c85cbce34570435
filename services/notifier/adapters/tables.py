"""The notifier's tables (it owns them; no other service reads them)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from shared.messaging.inbox import inbox_table
from shared.messaging.outbox import outbox_table

metadata = MetaData()
inbox = inbox_table(metadata, "notifier")
#: notification.logged events (the delivery log), read by the gateway's read model
outbox = outbox_table(metadata, "notifier")

#: The notifier's fold of the contract: the latest state of each entity it needs.
#: ``stamp`` = UTC occurred_at | event id orders states (the later wins whatever the
#: arrival order); ``deleted_stamp`` records a lesson.deleted / mark.deleted.
#: ``day`` is the lesson's or mark's date, ``tag`` the mark's kind, for loading by day.
records = Table(
    "notifier_records",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("entity_key", String(300), primary_key=True),
    Column("stamp", String(100)),
    Column("deleted_stamp", String(100)),
    Column("day", Date),
    Column("tag", String(20)),
    Column("data", JSON),
    Index("ix_notifier_records_day", "school_id", "kind", "day"),
    Index("ix_notifier_records_stamp", "school_id", "kind", "stamp"),
)

#: The checker's findings as announced (finding.opened / closed / updated).
findings = Table(
    "notifier_findings",
    metadata,
    Column("finding_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("stamp", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("responsible", String(20), nullable=False),
    Column("teacher_id", String(64)),
    Column("class_id", String(64)),
    Column("subject_id", String(64)),
    Column("day", Date, nullable=False),
    Column("message", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Index("ix_notifier_findings_school", "school_id", "status"),
)

#: Scheduled reports (report.ready from the schedule), until summarised to the deputy.
reports = Table(
    "notifier_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("title", Text, nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("summarised_at", DateTime(timezone=True)),
    Index("ix_notifier_reports_pending", "school_id", "summarised_at"),
)

#: A school's own choices (defaults come from the settings).
school_settings = Table(
    "notifier_school_settings",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("reminder_time", String(5)),
    Column("digest_time", String(5)),
    Column("parents_enabled", Boolean),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: One row per school, kind of planning (reminder, digest) and local day: planned once.
plan_runs = Table(
    "notifier_plan_runs",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("ran_at", DateTime(timezone=True), nullable=False),
    Column("messages", Integer, nullable=False),
)

#: One row per message and channel; ``message_id`` (the idempotency key + channel) is
#: unique, so planning twice queues once and a message is sent by one notifier only.
messages = Table(
    "notifier_messages",
    metadata,
    Column("message_id", String(300), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient_kind", String(10), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("student_id", String(64)),
    Column("address", String(300), nullable=False),
    Column("language", String(2), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(12), nullable=False),  # queued|sending|failed|sent|given_up|cancelled
    Column("attempts", Integer, nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_notifier_messages_due", "status", "not_before"),
    Index("ix_notifier_messages_recipient", "school_id", "recipient_kind", "recipient_id"),
)

#: The delivery log: every step of every message (queued, sent, failed with the reason,
#: retried, given up, cancelled).
delivery_log = Table(
    "notifier_delivery_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("message_id", String(300), nullable=False),
    Column("school_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("detail", Text),
    Index("ix_notifier_delivery_log_message", "message_id"),
    Index("ix_notifier_delivery_log_school", "school_id", "seq"),
)
