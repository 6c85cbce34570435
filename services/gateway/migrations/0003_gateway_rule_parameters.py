"""gateway: read model of each school's rule parameters

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | None = "gateway_0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_rule_parameters",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_rule_parameters")
