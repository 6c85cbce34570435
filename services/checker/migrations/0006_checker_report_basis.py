"""checker: what every report needs of a school in one row (names, terms, plans)

Revision ID: checker_0006
Revises: checker_0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0006"
down_revision: str | None = "checker_0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checker_report_basis",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("basis", sa.JSON, nullable=False),
        sa.Column("plans", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checker_report_basis")
