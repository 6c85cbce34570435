"""gateway: the print jobs read model (print.completed / print.failed, and pending requests)

Revision ID: gateway_0006
Revises: gateway_0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0006"
down_revision: str | None = "gateway_0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_print_jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("teacher_id", sa.String(64), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_key", sa.String(300), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pages", sa.Integer, nullable=True),
        sa.Column("bytes", sa.BigInteger, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_gateway_print_jobs_school", "gateway_print_jobs",
                    ["school_id", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_gateway_print_jobs_school", table_name="gateway_print_jobs")
    op.drop_table("gateway_print_jobs")
