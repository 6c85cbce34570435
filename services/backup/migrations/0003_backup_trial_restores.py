"""backup: when each backup was proved by a full trial restore (one per retention cycle
and scope; the others are verified by reading their journal)

Revision ID: backup_0003
Revises: backup_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "backup_0003"
down_revision: str | None = "backup_0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("backup_backups") as table:
        table.add_column(sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backup_backups") as table:
        table.drop_column("restored_at")
