"""checker: per school, when its findings can next change by time alone (deadlines
judged as they fall due)

Revision ID: checker_0010
Revises: checker_0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0010"
down_revision: str | None = "checker_0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checker_deadlines",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prepared", sa.JSON, nullable=True),
        sa.Column("prepared_next", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_checker_deadlines_due_at", "checker_deadlines", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_checker_deadlines_due_at", "checker_deadlines")
    op.drop_table("checker_deadlines")
