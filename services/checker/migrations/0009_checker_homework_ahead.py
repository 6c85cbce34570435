"""checker: homework posted ahead of the next lesson (clause 3.7), per lesson, for the
fill-rate report

Revision ID: checker_0009
Revises: checker_0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0009"
down_revision: str | None = "checker_0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # Rows of earlier sweeps read 0 until the school's next sweep refreshes them.
    op.add_column("checker_lesson_stats", sa.Column("homework_judged", sa.Integer,
                                                    nullable=False, server_default="0"))
    op.add_column("checker_lesson_stats", sa.Column("homework_ahead", sa.Integer,
                                                    nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("checker_lesson_stats", "homework_ahead")
    op.drop_column("checker_lesson_stats", "homework_judged")
