"""gateway: inbox and the findings read model

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0002"
down_revision: str | None = "gateway_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_inbox",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "gateway_findings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("clause", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("responsible", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("class_id", sa.String(64)),
        sa.Column("subject_id", sa.String(64)),
        sa.Column("subgroup", sa.String(16)),
        sa.Column("teacher_id", sa.String(64)),
        sa.Column("student_id", sa.String(64)),
        sa.Column("lesson_id", sa.String(64)),
        sa.Column("mark_id", sa.String(128)),
        sa.Column("term_id", sa.String(64)),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gateway_findings_school_date", "gateway_findings",
                    ["school_id", "date", "id"])


def downgrade() -> None:
    op.drop_table("gateway_findings")
    op.drop_table("gateway_inbox")
