"""gateway: the command outbox (issue 13: a request is recorded and sent, or neither)

Revision ID: gateway_0013
Revises: gateway_0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0013"
down_revision: str | None = "gateway_0012"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # The shape of every outbox (shared/messaging/outbox.py: outbox_table); its rows are
    # commands, routed by their key <service>.<command> onto the commands exchange.
    op.create_table(
        "gateway_command_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("routing_key", sa.String(100), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_command_outbox")
