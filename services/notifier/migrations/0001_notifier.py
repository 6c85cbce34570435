"""notifier: inbox, fold of the contract, findings, reports, settings, messages, log, outbox

Revision ID: notifier_0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notifier_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("notifier",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifier_delivery_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(
        "ix_notifier_delivery_log_message", "notifier_delivery_log", ["message_id"], unique=False
    )
    op.create_index(
        "ix_notifier_delivery_log_school",
        "notifier_delivery_log",
        ["school_id", "seq"],
        unique=False,
    )
    op.create_table(
        "notifier_findings",
        sa.Column("finding_id", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("stamp", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("responsible", sa.String(length=20), nullable=False),
        sa.Column("teacher_id", sa.String(length=64), nullable=True),
        sa.Column("class_id", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("finding_id"),
    )
    op.create_index(
        "ix_notifier_findings_school", "notifier_findings", ["school_id", "status"], unique=False
    )
    op.create_table(
        "notifier_inbox",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "notifier_messages",
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient_kind", sa.String(length=10), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index(
        "ix_notifier_messages_due", "notifier_messages", ["status", "not_before"], unique=False
    )
    op.create_index(
        "ix_notifier_messages_recipient",
        "notifier_messages",
        ["school_id", "recipient_kind", "recipient_id"],
        unique=False,
    )
    op.create_table(
        "notifier_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("routing_key", sa.String(length=100), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "notifier_plan_runs",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("school_id", "kind", "day"),
    )
    op.create_table(
        "notifier_records",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity_key", sa.String(length=300), nullable=False),
        sa.Column("stamp", sa.String(length=100), nullable=True),
        sa.Column("deleted_stamp", sa.String(length=100), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("tag", sa.String(length=20), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("school_id", "kind", "entity_key"),
    )
    op.create_index(
        "ix_notifier_records_day", "notifier_records", ["school_id", "kind", "day"], unique=False
    )
    op.create_index(
        "ix_notifier_records_stamp",
        "notifier_records",
        ["school_id", "kind", "stamp"],
        unique=False,
    )
    op.create_table(
        "notifier_reports",
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summarised_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("report_id"),
    )
    op.create_index(
        "ix_notifier_reports_pending",
        "notifier_reports",
        ["school_id", "summarised_at"],
        unique=False,
    )
    op.create_table(
        "notifier_school_settings",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("reminder_time", sa.String(length=5), nullable=True),
        sa.Column("digest_time", sa.String(length=5), nullable=True),
        sa.Column("parents_enabled", sa.Boolean(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("school_id"),
    )


def downgrade() -> None:
    op.drop_table("notifier_school_settings")
    op.drop_index("ix_notifier_reports_pending", table_name="notifier_reports")
    op.drop_table("notifier_reports")
    op.drop_index("ix_notifier_records_stamp", table_name="notifier_records")
    op.drop_index("ix_notifier_records_day", table_name="notifier_records")
    op.drop_table("notifier_records")
    op.drop_table("notifier_plan_runs")
    op.drop_table("notifier_outbox")
    op.drop_index("ix_notifier_messages_recipient", table_name="notifier_messages")
    op.drop_index("ix_notifier_messages_due", table_name="notifier_messages")
    op.drop_table("notifier_messages")
    op.drop_table("notifier_inbox")
    op.drop_index("ix_notifier_findings_school", table_name="notifier_findings")
    op.drop_table("notifier_findings")
    op.drop_index("ix_notifier_delivery_log_school", table_name="notifier_delivery_log")
    op.drop_index("ix_notifier_delivery_log_message", table_name="notifier_delivery_log")
    op.drop_table("notifier_delivery_log")
