"""checker: facts, dirty schools, findings and their history

Revision ID: checker_0002
Revises: checker_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0002"
down_revision: str | None = "checker_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checker_facts",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("entity_key", sa.String(400), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
    )
    op.create_table(
        "checker_dirty_schools",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "checker_findings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("finding_key", sa.String(500), nullable=False),
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
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.UniqueConstraint("school_id", "finding_key", name="uq_checker_findings_key"),
    )
    op.create_index("ix_checker_findings_school_status", "checker_findings",
                    ["school_id", "status", "date"])
    op.create_table(
        "checker_finding_history",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("finding_id", sa.String(32), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text),
    )


def downgrade() -> None:
    for table in ("checker_finding_history", "checker_findings", "checker_dirty_schools",
                  "checker_facts"):
        op.drop_table(table)
