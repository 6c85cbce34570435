"""The gateway's tables (it owns them; no other service reads them)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from shared.messaging.inbox import inbox_table
from shared.messaging.outbox import outbox_table

metadata = MetaData()

_BIGINT = BigInteger().with_variant(Integer, "sqlite")

#: Every event id ever accepted: the idempotency key of the webhook contract.
received_events = Table(
    "gateway_received_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("type", String(100), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("stored_in", String(16), nullable=False),  # broker | outbox
)

#: Events accepted while the broker was unreachable, until the relay sends them.
outbox = outbox_table(metadata, "gateway")

#: Items the gateway refused, kept for administrators: nothing sent is dropped.
quarantine = Table(
    "gateway_quarantine",
    metadata,
    Column("id", _BIGINT, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("school_id", String(64), nullable=True, index=True),
    Column("event_id", String(64), nullable=True),
    Column("event_type", String(100), nullable=True),
    Column("webhook_id", String(256), nullable=False),
    Column("batch_index", Integer, nullable=True),
    Column("errors", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

api_tokens = Table(
    "gateway_api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("school_id", String(64), nullable=True),
    Column("label", String(200), nullable=True),
    Column("teacher_id", String(64), nullable=True),  # a teacher's token: whose findings
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)


inbox = inbox_table(metadata, "gateway")

#: The findings as the checker announced them (finding.* events), for the API.
findings_view = Table(
    "gateway_findings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("clause", String(20), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("responsible", String(20), nullable=False),
    Column("status", String(16), nullable=False),
    Column("class_id", String(64)),
    Column("subject_id", String(64)),
    Column("subgroup", String(16)),
    Column("teacher_id", String(64)),
    Column("student_id", String(64)),
    Column("lesson_id", String(64)),
    Column("mark_id", String(128)),
    Column("term_id", String(64)),
    Column("date", Date, nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("message", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("history", JSON, nullable=False),
    Column("stamp", DateTime(timezone=True), nullable=False),  # the newest event applied
)

#: Each school's rule parameters as the checker announced them.
rule_parameters_view = Table(
    "gateway_rule_parameters",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("parameters", JSON, nullable=False),
    Column("stamp", DateTime(timezone=True), nullable=False),
)

#: Reports: a request waiting for the checker (``pending``), then its report.ready
#: (``ready``, with the content) or report.failed (``failed``); scheduled reports too.
reports_view = Table(
    "gateway_reports",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("scope", JSON, nullable=True),
    Column("requested_by", String(100), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=True),
    Column("content", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_gateway_reports_school_kind", "school_id", "kind", "requested_at"),
)
