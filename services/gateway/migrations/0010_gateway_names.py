"""gateway: the names of schools, classes, teachers and subjects (contract v1.1), so the
API's listings and exports show names beside ids; a batch print job's progress

Revision ID: gateway_0010
Revises: gateway_0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0010"
# Merging with main, whose gateway_0009 (issue 14) also follows 0008: set this to
# "gateway_0009" so the branch has one head.
down_revision: str | None = "gateway_0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_names",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("entity_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("stamp", sa.String(100), nullable=False),
    )
    with op.batch_alter_table("gateway_print_jobs") as table:
        table.add_column(sa.Column("documents_done", sa.Integer, nullable=True))
        table.add_column(sa.Column("documents_total", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_print_jobs") as table:
        table.drop_column("documents_total")
        table.drop_column("documents_done")
    op.drop_table("gateway_names")
