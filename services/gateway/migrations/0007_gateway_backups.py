"""gateway: read models of backups and of the year-end archive registry

Revision ID: gateway_0007
Revises: gateway_0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0007"
down_revision: str | None = "gateway_0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_backups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("key", sa.String(300), nullable=True),
        sa.Column("events", sa.BigInteger, nullable=True),
        sa.Column("bytes", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("time_range", sa.JSON, nullable=True),
        sa.Column("problems", sa.JSON, nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_gateway_backups_scope", "gateway_backups", ["scope", "created_at"])
    op.create_table(
        "gateway_archive_registry",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("academic_year", sa.String(9), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("registry_number", sa.String(20), nullable=False),
        sa.Column("class_id", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pdf_key", sa.String(300), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responsible", sa.String(200), nullable=False),
    )
    op.create_index("ix_gateway_archive_school_year", "gateway_archive_registry",
                    ["school_id", "academic_year", "number"])


def downgrade() -> None:
    op.drop_index("ix_gateway_archive_school_year", "gateway_archive_registry")
    op.drop_table("gateway_archive_registry")
    op.drop_index("ix_gateway_backups_scope", "gateway_backups")
    op.drop_table("gateway_backups")
