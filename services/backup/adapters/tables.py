"""The backup service's tables (it owns them; no other service reads them)."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

from shared.messaging.inbox import inbox_table

metadata = MetaData()
inbox = inbox_table(metadata, "backup")

journal = Table(
    "backup_journal",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("type", String(100), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: One row: the newest entry's hash. Locking it serialises appends across
#: backup instances, so the chain never forks.
journal_head = Table(
    "backup_journal_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)
