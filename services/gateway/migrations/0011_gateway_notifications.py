"""gateway: the notifier's delivery log (from notification.logged)

Revision ID: gateway_0011
Revises: gateway_0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0011"
down_revision: str | None = "gateway_0010"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_notifications",
        sa.Column("message_id", sa.String(300), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient_kind", sa.String(10), nullable=False),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("student_id", sa.String(64), nullable=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stamp", sa.String(100), nullable=False),
    )
    op.create_index("ix_gateway_notifications_school", "gateway_notifications",
                    ["school_id", "updated_at"])
    op.create_table(
        "gateway_notification_log",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_gateway_notification_log_message", "gateway_notification_log",
                    ["message_id", "at"])


def downgrade() -> None:
    op.drop_table("gateway_notification_log")
    op.drop_table("gateway_notifications")
