"""printer: journal copy, reports, print jobs, outbox

Revision ID: printer_0002
Revises: printer_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "printer_0002"
down_revision: str | None = "printer_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "printer_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("routing_key", sa.String(100), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "printer_records",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("entity_key", sa.String(400), primary_key=True),
        sa.Column("class_id", sa.String(64)),
        sa.Column("stamp", sa.String(100)),
        sa.Column("data", sa.JSON),
        sa.Column("deleted_stamp", sa.String(100)),
    )
    op.create_index("ix_printer_records_class", "printer_records",
                    ["school_id", "class_id", "kind"])
    op.create_table(
        "printer_reports",
        sa.Column("report_id", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("requested_by", sa.String(100)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_table(
        "printer_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("requested_by", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("file_key", sa.String(300)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("pages", sa.Integer),
        sa.Column("bytes", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("printer_jobs")
    op.drop_table("printer_reports")
    op.drop_index("ix_printer_records_class", table_name="printer_records")
    op.drop_table("printer_records")
    op.drop_table("printer_outbox")
