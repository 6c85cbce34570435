"""gateway: a token may stand for one teacher

Revision ID: gateway_0004
Revises: gateway_0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0004"
down_revision: str | None = "gateway_0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gateway_api_tokens") as table:
        table.add_column(sa.Column("teacher_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_api_tokens") as table:
        table.drop_column("teacher_id")
