"""checker: per-school rule parameters

Revision ID: checker_0004
Revises: checker_0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0004"
down_revision: str | None = "checker_0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checker_parameters",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checker_parameters")
