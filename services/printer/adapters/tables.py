"""The printer service's tables (it owns them; no other service reads them)."""

from sqlalchemy import JSON, Column, DateTime, Index, Integer, MetaData, String, Table, Text

from shared.messaging.inbox import inbox_table
from shared.messaging.outbox import outbox_table

metadata = MetaData()
inbox = inbox_table(metadata, "printer")
#: print.completed / print.failed, written in the transaction that finishes the job
outbox = outbox_table(metadata, "printer")

#: The printer's copy of the journal: the latest state of each entity
#: (``services/printer/domain/copy.py``). ``stamp`` orders states: UTC time | event id.
records = Table(
    "printer_records",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("entity_key", String(400), primary_key=True),
    Column("class_id", String(64)),
    Column("stamp", String(100)),
    Column("data", JSON),
    Column("deleted_stamp", String(100)),
    Index("ix_printer_records_class", "school_id", "class_id", "kind"),
)

#: Every report.ready received, so a print job can print it later.
reports = Table(
    "printer_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("requested_by", String(100)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("report", JSON, nullable=False),
)

#: One row per print job (its id is the idempotency key): what was asked and what came out.
jobs = Table(
    "printer_jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("requested_by", String(100)),
    Column("status", String(16), nullable=False),
    Column("file_key", String(300)),
    Column("sha256", String(64)),
    Column("pages", Integer),
    Column("bytes", Integer),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)
