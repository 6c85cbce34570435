"""checker: when each school last sent events from the past (settling); versions of
scheduled reports (a figure changed after it was made: made again, naming the one it
replaces)

Revision ID: checker_0007
Revises: checker_0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0007"
down_revision: str | None = "checker_0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checker_catching_up",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("checker_scheduled_reports") as table:
        table.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        table.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
        table.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checker_scheduled_reports") as table:
        table.drop_column("checked_at")
        table.drop_column("fingerprint")
        table.drop_column("version")
    op.drop_table("checker_catching_up")
