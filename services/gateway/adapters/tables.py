"""The gateway's tables (it owns them; no other service reads them)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from shared.messaging.inbox import inbox_table
from shared.messaging.outbox import outbox_table

metadata = MetaData()

_BIGINT = BigInteger().with_variant(Integer, "sqlite")

#: Every event id ever accepted: the idempotency key of the webhook contract.
received_events = Table(
    "gateway_received_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("type", String(100), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("stored_in", String(16), nullable=False),  # broker | outbox
)

#: Events accepted while the broker was unreachable, until the relay sends them.
outbox = outbox_table(metadata, "gateway")
#: Commands the API sends (report requests, print jobs, ...), written in the request's
#: transaction with what it records, until the command relay sends them.
command_outbox = outbox_table(metadata, "gateway_command")

#: Items the gateway refused, kept for administrators: nothing sent is dropped.
quarantine = Table(
    "gateway_quarantine",
    metadata,
    Column("id", _BIGINT, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("school_id", String(64), nullable=True, index=True),
    Column("event_id", String(64), nullable=True),
    Column("event_type", String(100), nullable=True),
    Column("webhook_id", String(256), nullable=False),
    Column("batch_index", Integer, nullable=True),
    Column("errors", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

api_tokens = Table(
    "gateway_api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("school_id", String(64), nullable=True),
    Column("label", String(200), nullable=True),
    Column("teacher_id", String(64), nullable=True),  # a teacher's token: whose findings
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),  # None: refused
    Column("user_id", String(32), nullable=True),  # the staff account it was issued to
)

#: Staff accounts of the web console (issue 16): Argon2id hashes, one-time setup codes.
users = Table(
    "gateway_users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("login", String(100), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("school_id", String(64), nullable=True),
    Column("teacher_id", String(64), nullable=True),
    Column("password_hash", Text, nullable=True),
    Column("setup_code_hash", String(64), nullable=True, unique=True),
    Column("setup_expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("language", String(8), nullable=False, server_default="ru"),  # "ru" or "ky"
)

#: Console sessions; the cookie holds the id, the table only its SHA-256.
sessions = Table(
    "gateway_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

#: Failed console logins, by account and by address (throttling).
login_failures = Table(
    "gateway_login_failures",
    metadata,
    Column("id", _BIGINT, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_gateway_login_failures_key", "key", "at"),
)

console_key = Table(
    "gateway_console_key",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("secret", String(128), nullable=False),
)

#: The personal-data access log: who read or exported what, when, from where;
#: token issue and revoke (issue 14; ASVS V7/V8). Kept KOZOMOL_AUDIT_RETENTION_DAYS.
audit = Table(
    "gateway_audit",
    metadata,
    Column("id", _BIGINT, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("token_id", String(32), nullable=True),
    Column("role", String(20), nullable=True),
    Column("school_id", String(64), nullable=True),
    Column("action", String(40), nullable=False),
    Column("resource", String(200), nullable=False),
    Column("target", JSON, nullable=False),
    Column("status", Integer, nullable=True),
    Column("address", String(64), nullable=True),
    Index("ix_gateway_audit_school", "school_id", "id"),
)

#: Heavy commands in flight: at most one of a kind per school (adapters/command_slots.py).
command_slots = Table(
    "gateway_command_slots",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("request_id", String(64), nullable=False, index=True),
    Column("taken_at", DateTime(timezone=True), nullable=False),
)


inbox = inbox_table(metadata, "gateway")

#: The findings as the checker announced them (finding.* events), for the API.
findings_view = Table(
    "gateway_findings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("clause", String(20), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("responsible", String(20), nullable=False),
    Column("status", String(16), nullable=False),
    Column("class_id", String(64)),
    Column("subject_id", String(64)),
    Column("subgroup", String(16)),
    Column("teacher_id", String(64)),
    Column("student_id", String(64)),
    Column("lesson_id", String(64)),
    Column("mark_id", String(128)),
    Column("term_id", String(64)),
    Column("date", Date, nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("message", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("history", JSON, nullable=False),
    Column("stamp", DateTime(timezone=True), nullable=False),  # the newest event applied
    Index("ix_gateway_findings_school_status_rule", "school_id", "status", "rule",
          "teacher_id"),
    Index("ix_gateway_findings_school_teacher", "school_id", "teacher_id", "date"),
    Index("ix_gateway_findings_school_class", "school_id", "class_id", "date"),
)

#: Each school's rule parameters as the checker announced them.
rule_parameters_view = Table(
    "gateway_rule_parameters",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("parameters", JSON, nullable=False),
    Column("stamp", DateTime(timezone=True), nullable=False),
)

#: Reports: a request waiting for the checker (``pending``), then its report.ready
#: (``ready``, with the content) or report.failed (``failed``); scheduled reports too.
reports_view = Table(
    "gateway_reports",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("scope", JSON, nullable=True),
    Column("requested_by", String(100), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=True),
    Column("content", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_gateway_reports_school_kind", "school_id", "kind", "requested_at"),
)

#: Print jobs: ``pending`` when the API sends the command, then ``completed`` or
#: ``failed`` from the printer's print.completed / print.failed (scheduled jobs too).
print_jobs_view = Table(
    "gateway_print_jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("requested_by", String(100), nullable=False),
    Column("teacher_id", String(64), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("file_key", String(300), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("pages", Integer, nullable=True),
    Column("bytes", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    # a batch's progress: documents printed of how many (print.progress, print.completed)
    Column("documents_done", Integer, nullable=True),
    Column("documents_total", Integer, nullable=True),
    Index("ix_gateway_print_jobs_school", "school_id", "requested_at"),
)


#: Backups as the backup service announces them (backup.completed / .verified /
#: .failed); a row is added as ``requested`` when the API asks for one.
backups_view = Table(
    "gateway_backups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("key", String(300), nullable=True),
    Column("events", BigInteger, nullable=True),
    Column("bytes", BigInteger, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("time_range", JSON, nullable=True),
    Column("problems", JSON, nullable=True),
    Column("requested_by", String(200), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=True),
    Column("verified_at", DateTime(timezone=True), nullable=True),
    Index("ix_gateway_backups_scope", "scope", "created_at"),
)

#: The year-end archive registry, from archive.registered events (never changed).
archive_view = Table(
    "gateway_archive_registry",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("academic_year", String(9), nullable=False),
    Column("number", Integer, nullable=False),
    Column("registry_number", String(20), nullable=False),
    Column("class_id", String(64), nullable=False),
    Column("pages", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("pdf_key", String(300), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("responsible", String(200), nullable=False),
    Index("ix_gateway_archive_school_year", "school_id", "academic_year", "number"),
)

#: Homeroom teachers from class.roster (nothing else of the roster: no personal data),
#: so a class teacher's token sees the findings of their classes.
classes_view = Table(
    "gateway_classes",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("class_id", String(64), primary_key=True),
    Column("homeroom_teacher_id", String(64), nullable=True),
    Column("stamp", String(100), nullable=False),  # occurred_at|event id of the newest roster
    Index("ix_gateway_classes_homeroom", "school_id", "homeroom_teacher_id"),
)


#: names from the contract (v1.1): kind "school" (entity_id ""), "class", "teacher", "subject"
names_view = Table(
    "gateway_names",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("entity_id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("stamp", String(100), nullable=False),  # occurred_at|event id of the newest
)

#: Each school's time zone, from its newest ``school.calendar`` (Asia/Bishkek when none came)
school_zones_view = Table(
    "gateway_school_zones",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("stamp", String(100), nullable=False),  # occurred_at|event id of the newest
)

#: The notifier's delivery log, from its notification.logged events: the latest step of
#: each message (``stamp`` orders steps whatever the arrival order) ...
notifications_view = Table(
    "gateway_notifications",
    metadata,
    Column("message_id", String(300), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient_kind", String(10), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("student_id", String(64), nullable=True),
    Column("subject", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("detail", Text, nullable=True),
    Column("queued_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("stamp", String(100), nullable=False),
    Index("ix_gateway_notifications_school", "school_id", "updated_at"),
)

#: ... and every step of it.
notification_log_view = Table(
    "gateway_notification_log",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("message_id", String(300), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("detail", Text, nullable=True),
    Index("ix_gateway_notification_log_message", "message_id", "at"),
)
