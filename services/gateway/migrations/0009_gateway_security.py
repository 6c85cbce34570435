"""gateway: token expiry, the personal-data access log, heavy commands' slots (issue 14)

Revision ID: gateway_0009
Revises: gateway_0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0009"
down_revision: str | None = "gateway_0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("gateway_api_tokens") as table:
        table.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    # Tokens issued before expiry existed get the default lifetime from today, so an
    # upgrade does not lock their holders out at once.
    tokens = sa.table("gateway_api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None))
               .values(expires_at=datetime.now(UTC) + timedelta(days=90)))
    op.create_table(
        "gateway_audit",
        sa.Column("id", _BIGINT, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=True),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("school_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("target", sa.JSON, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
    )
    op.create_index("ix_gateway_audit_at", "gateway_audit", ["at"])
    op.create_index("ix_gateway_audit_school", "gateway_audit", ["school_id", "id"])
    op.create_table(
        "gateway_command_slots",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_command_slots")
    op.drop_table("gateway_audit")
    with op.batch_alter_table("gateway_api_tokens") as table:
        table.drop_column("expires_at")
