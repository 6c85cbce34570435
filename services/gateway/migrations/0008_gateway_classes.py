"""gateway: which teacher is homeroom teacher of which class (from class.roster)

Revision ID: gateway_0008
Revises: gateway_0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0008"
down_revision: str | None = "gateway_0007"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_classes",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("class_id", sa.String(64), primary_key=True),
        sa.Column("homeroom_teacher_id", sa.String(64), nullable=True),
        sa.Column("stamp", sa.String(100), nullable=False),
    )
    op.create_index("ix_gateway_classes_homeroom", "gateway_classes",
                    ["school_id", "homeroom_teacher_id"])


def downgrade() -> None:
    op.drop_table("gateway_classes")
