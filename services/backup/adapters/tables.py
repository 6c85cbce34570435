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
    Text,
    UniqueConstraint,
)

from shared.messaging.inbox import inbox_table
from shared.messaging.outbox import outbox_table

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

#: Events the backup service announces (backup.*, archive.registered), relayed
#: to the events exchange; commands it sends (printer.print.request), relayed
#: to the commands exchange.
outbox = outbox_table(metadata, "backup")
command_outbox = outbox_table(metadata, "backup_command")

#: One row per backup, requested, running or made. ``slot`` names a scheduled
#: tick; unique per scope, it is the lock that makes two instances take one backup.
backups = Table(
    "backup_backups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("slot", String(64), nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("key", String(300), nullable=True),
    Column("requested_by", String(200), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=True),
    Column("events", BigInteger, nullable=True),
    Column("bytes", BigInteger, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("members", Text, nullable=True),  # JSON: member name -> SHA-256
    Column("last_seq", BigInteger, nullable=True),
    Column("head_hash", String(64), nullable=True),
    Column("verified_at", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=True),
    #: proved by a full trial restore (one per retention cycle and scope)
    Column("restored_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("scope", "slot", name="uq_backup_backups_slot"),
)

#: Class journals sent to the printer for the year-end archive, awaiting print.completed.
archive_requests = Table(
    "backup_archive_requests",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("class_id", String(64), nullable=False),
    Column("academic_year", String(9), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)

#: The archive registry (clause 4.3). Append-only: the migration adds triggers
#: that refuse UPDATE and DELETE, and no code path issues either.
archive_registry = Table(
    "backup_archive_registry",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("school_id", String(64), nullable=False),
    Column("academic_year", String(9), nullable=False),
    Column("number", Integer, nullable=False),
    Column("class_id", String(64), nullable=False),
    Column("pages", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("pdf_key", String(300), nullable=False),
    Column("job_id", String(64), nullable=False, unique=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("responsible", String(200), nullable=False),
    UniqueConstraint("school_id", "academic_year", "number", name="uq_backup_registry_number"),
)
