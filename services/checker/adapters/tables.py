"""The checker service's tables (it owns them; no other service reads them)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.messaging.inbox import inbox_table
from shared.messaging.outbox import outbox_table

metadata = MetaData()
inbox = inbox_table(metadata, "checker")
#: finding.opened / finding.closed events, written with the change they announce
outbox = outbox_table(metadata, "checker")

#: What the checker knows: one row per entity (lesson, mark, sheet, plan, ...).
facts = Table(
    "checker_facts",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("entity_key", String(400), primary_key=True),
    Column("state", JSON, nullable=False),
)

#: Schools whose facts changed since their last evaluation.
dirty_schools = Table(
    "checker_dirty_schools",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("since", DateTime(timezone=True), nullable=False),
)

#: When the checker last folded an event of the school that arrived long after it was
#: entered (a history catching up): such a school is settling, not yet judged.
catching_up = Table(
    "checker_catching_up",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("last_at", DateTime(timezone=True), nullable=False),
)

findings = Table(
    "checker_findings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("school_id", String(64), nullable=False),
    Column("finding_key", String(500), nullable=False),
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
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("message", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    UniqueConstraint("school_id", "finding_key", name="uq_checker_findings_key"),
)

finding_history = Table(
    "checker_finding_history",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("finding_id", String(32), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("comment", Text),
)

#: A school's own rule parameters (absent: the catalog's defaults).
parameters = Table(
    "checker_parameters",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("parameters", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(100), nullable=False),
)

#: One row per live lesson: how its entries were made (the fill-rate reports sum these).
#: Refreshed by each sweep of the school.
lesson_stats = Table(
    "checker_lesson_stats",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("lesson_id", String(64), primary_key=True),
    Column("class_id", String(64), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("subgroup", String(16)),
    Column("teacher_id", String(64), nullable=False),
    Column("date", Date, nullable=False),
    Column("topic_on_time", Boolean, nullable=False),
    Column("homework_on_time", Boolean, nullable=False),
    Column("attendance_on_time", Boolean, nullable=False),
    Column("marks", Integer, nullable=False),
    Column("marks_with_deadline", Integer, nullable=False),
    Column("marks_on_time", Integer, nullable=False),
    Column("homework_judged", Integer, nullable=False, server_default="0"),
    Column("homework_ahead", Integer, nullable=False, server_default="0"),
    Index("ix_checker_lesson_stats_date", "school_id", "date"),
)

#: Term and year marks set, per class, subject and term (refreshed by each sweep).
final_stats = Table(
    "checker_final_stats",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("class_id", String(64), primary_key=True),
    Column("subject_id", String(64), primary_key=True),
    Column("term_id", String(64), primary_key=True),
    Column("marks_set", Integer, nullable=False),
)

#: Reports the checker made by itself, one per school, kind and period (never twice).
scheduled_reports = Table(
    "checker_scheduled_reports",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("period", String(120), primary_key=True),
    Column("report_id", String(64), nullable=False),  # the newest version's
    Column("made_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("fingerprint", String(64), nullable=True),  # SHA-256 of the newest figures
    Column("checked_at", DateTime(timezone=True), nullable=True),  # last compared
)

#: Per school, what every report needs besides the statistics: time zone, terms,
#: subject and teacher names, homeroom teachers and the plans' dates (one small row
#: instead of the facts' plans; refreshed by each sweep).
report_basis = Table(
    "checker_report_basis",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("basis", JSON, nullable=False),
    Column("plans", JSON, nullable=False),  # apart: only some reports need them
)

#: Per school, term and class: every student's result in every subject (status, term
#: mark, current marks' count and sum), for the academic results reports. Refreshed by
#: each sweep of the school (only the classes and terms whose results changed).
result_stats = Table(
    "checker_result_stats",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("term_id", String(64), primary_key=True),
    Column("class_id", String(64), primary_key=True),
    Column("grade", Integer, nullable=False),
    Column("results", JSON, nullable=False),
)

#: Per school, the first moment its findings can change by time alone (a deadline
#: passing), written by each sweep of the school: the sweeper judges the schools whose
#: moment has come, quiet or not (issue 20). ``prepared``: the findings that hold from
#: that moment, judged ahead while the school was quiet, valid until ``prepared_next``
#: unless the school's facts change (then it is dirty and judged whole).
deadlines = Table(
    "checker_deadlines",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("prepared", JSON(none_as_null=True), nullable=True),
    Column("prepared_next", DateTime(timezone=True), nullable=True),
    Index("ix_checker_deadlines_due_at", "due_at"),
)
