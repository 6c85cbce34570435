"""gateway: staff accounts and sessions of the web console (issue 16)

Revision ID: gateway_0012
Revises: gateway_0011
Create Date: 2026-12-01
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0012"
down_revision: str | None = "gateway_0011"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "gateway_users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("login", sa.String(100), nullable=False, unique=True),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=True),
        sa.Column("teacher_id", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("setup_code_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("setup_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "gateway_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "gateway_login_failures",
        sa.Column("id", _BIGINT, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_gateway_login_failures_key", "gateway_login_failures", ["key", "at"])
    # The key that signs the console's cookies: one per installation, shared by every worker.
    keys = op.create_table(
        "gateway_console_key",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("secret", sa.String(128), nullable=False),
    )
    op.bulk_insert(keys, [{"id": 1, "secret": secrets.token_hex(32)}])
    with op.batch_alter_table("gateway_api_tokens") as table:
        table.add_column(sa.Column("user_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_api_tokens") as table:
        table.drop_column("user_id")
    op.drop_table("gateway_console_key")
    op.drop_table("gateway_login_failures")
    op.drop_table("gateway_sessions")
    op.drop_table("gateway_users")
