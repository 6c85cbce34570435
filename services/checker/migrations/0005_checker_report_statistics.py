"""checker: per-lesson and final-mark statistics for the reports, and scheduled reports made

Revision ID: checker_0005
Revises: checker_0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "checker_0005"
down_revision: str | None = "checker_0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checker_lesson_stats",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("lesson_id", sa.String(64), primary_key=True),
        sa.Column("class_id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("subgroup", sa.String(16)),
        sa.Column("teacher_id", sa.String(64), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("topic_on_time", sa.Boolean, nullable=False),
        sa.Column("homework_on_time", sa.Boolean, nullable=False),
        sa.Column("attendance_on_time", sa.Boolean, nullable=False),
        sa.Column("marks", sa.Integer, nullable=False),
        sa.Column("marks_with_deadline", sa.Integer, nullable=False),
        sa.Column("marks_on_time", sa.Integer, nullable=False),
    )
    op.create_index("ix_checker_lesson_stats_date", "checker_lesson_stats",
                    ["school_id", "date"])
    op.create_table(
        "checker_final_stats",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("class_id", sa.String(64), primary_key=True),
        sa.Column("subject_id", sa.String(64), primary_key=True),
        sa.Column("term_id", sa.String(64), primary_key=True),
        sa.Column("marks_set", sa.Integer, nullable=False),
    )
    op.create_table(
        "checker_scheduled_reports",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("period", sa.String(120), primary_key=True),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checker_scheduled_reports")
    op.drop_table("checker_final_stats")
    op.drop_table("checker_lesson_stats")
