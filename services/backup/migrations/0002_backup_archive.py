"""backup: backups catalog, outboxes, year-end archive registry (append-only)

Revision ID: backup_0002
Revises: backup_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "backup_0002"
down_revision: str | None = "backup_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

PG_GUARD = """
CREATE FUNCTION backup_registry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the archive registry is append-only';
END;
$$ LANGUAGE plpgsql
"""


def _outbox(name: str) -> None:
    op.create_table(
        name,
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("routing_key", sa.String(100), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def upgrade() -> None:
    _outbox("backup_outbox")
    _outbox("backup_command_outbox")
    op.create_table(
        "backup_backups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("slot", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("key", sa.String(300), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events", sa.BigInteger, nullable=True),
        sa.Column("bytes", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("members", sa.Text, nullable=True),
        sa.Column("last_seq", sa.BigInteger, nullable=True),
        sa.Column("head_hash", sa.String(64), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.UniqueConstraint("scope", "slot", name="uq_backup_backups_slot"),
    )
    op.create_table(
        "backup_archive_requests",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("class_id", sa.String(64), nullable=False),
        sa.Column("academic_year", sa.String(9), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "backup_archive_registry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("academic_year", sa.String(9), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("class_id", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pdf_key", sa.String(300), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False, unique=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responsible", sa.String(200), nullable=False),
        sa.UniqueConstraint("school_id", "academic_year", "number",
                            name="uq_backup_registry_number"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)
        op.execute("CREATE TRIGGER backup_registry_append_only BEFORE UPDATE OR DELETE "
                   "ON backup_archive_registry FOR EACH ROW "
                   "EXECUTE FUNCTION backup_registry_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER backup_registry_no_{action.lower()} BEFORE {action} "
                       "ON backup_archive_registry BEGIN "
                       "SELECT RAISE(ABORT, 'the archive registry is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER backup_registry_append_only ON backup_archive_registry")
        op.execute("DROP FUNCTION backup_registry_append_only()")
    op.drop_table("backup_archive_registry")
    op.drop_table("backup_archive_requests")
    op.drop_table("backup_backups")
    op.drop_table("backup_command_outbox")
    op.drop_table("backup_outbox")
