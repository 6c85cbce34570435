"""gateway: each school's time zone (from its calendar), each console user's language, an
index for the console's dashboard (open findings by rule and teacher)

Revision ID: gateway_0014
Revises: gateway_0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0014"
down_revision: str | None = "gateway_0013"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_school_zones",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("stamp", sa.String(100), nullable=False),
    )
    with op.batch_alter_table("gateway_users") as table:
        table.add_column(sa.Column("language", sa.String(8), nullable=False,
                                   server_default="ru"))
    # The dashboard counts a school's open findings by rule and teacher: from the index.
    op.create_index("ix_gateway_findings_school_status_rule", "gateway_findings",
                    ["school_id", "status", "rule", "teacher_id"])
    # A teacher's page and a class's page list that teacher's or class's findings.
    op.create_index("ix_gateway_findings_school_teacher", "gateway_findings",
                    ["school_id", "teacher_id", "date"])
    op.create_index("ix_gateway_findings_school_class", "gateway_findings",
                    ["school_id", "class_id", "date"])


def downgrade() -> None:
    op.drop_index("ix_gateway_findings_school_class", "gateway_findings")
    op.drop_index("ix_gateway_findings_school_teacher", "gateway_findings")
    op.drop_index("ix_gateway_findings_school_status_rule", "gateway_findings")
    with op.batch_alter_table("gateway_users") as table:
        table.drop_column("language")
    op.drop_table("gateway_school_zones")
