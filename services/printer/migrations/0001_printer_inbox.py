"""printer: inbox of processed event ids

Revision ID: printer_0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "printer_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("printer",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "printer_inbox",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("printer_inbox")
