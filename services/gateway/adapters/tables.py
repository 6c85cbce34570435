"""The gateway's tables (it owns them; no other service reads them)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

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
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
