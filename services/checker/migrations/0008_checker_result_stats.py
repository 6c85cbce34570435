"""checker: every student's result per class, subject and term, for the academic results
reports (успеваемость, качество знаний, СОУ, objectivity of term marks)

Revision ID: checker_0008
Revises: checker_0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0008"
down_revision: str | None = "checker_0007"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checker_result_stats",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("term_id", sa.String(64), primary_key=True),
        sa.Column("class_id", sa.String(64), primary_key=True),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("results", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checker_result_stats")
