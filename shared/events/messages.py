"""The services' own messages: every event and command a service publishes, typed.

Each message's ``data`` is one dataclass below; from it ``shared/events/typed.py``
derives the marshmallow schema that ``new_envelope`` validates every published
message against, and the JSON Schema under ``docs/schemas/internal/``
(``kozomol schemas export``). A consumer loads the data once::

    finding = Finding.from_data(event.data)

and reads typed fields (``finding.date`` is a ``date``) instead of ``data.get(...)``.

Publishing is strict (every field sent, of its type, nothing unknown); loading
is tolerant (see ``typed.py``), so a consumer keeps working on a partial or
older message as it did when it read the dict by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from marshmallow import validate

from shared.events import print_kinds
from shared.events.typed import data_errors, from_data, required, to_data

#: The scope of a backup (and of a journal entry) that covers every school.
ALL_SCHOOLS = "*"
#: A backup's id: ``bk`` and 16 hex digits.
BACKUP_ID = re.compile(r"^bk[0-9a-f]{16}$")
ACADEMIC_YEAR = validate.Regexp(r"^\d{4}-\d{4}$", error="must look like 2026-2027")
FINDING_STATUSES = ("open", "fixed", "waived", "withdrawn")


def new_backup_id() -> str:
    return f"bk{secrets.token_hex(8)}"


class MessageData:
    """Base of the message data classes: loading and writing them."""

    #: extra checks a publisher's data must pass beyond the fields' own (None: none)
    publish_checks: ClassVar[Any] = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return from_data(cls, data)

    def to_data(self) -> dict[str, Any]:
        return to_data(self)


# The checker's events ----------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class FindingStep(MessageData):
    """One step of a finding's history."""

    at: datetime
    status: str
    actor: str
    comment: str | None = required(None, nullable=True)


@dataclass(frozen=True, kw_only=True)
class Finding(MessageData):
    """A rule finding as the checker announces it (``finding.opened``, ``.closed``,
    ``.updated``) and as the API shows it."""

    id: str
    rule: str = required("")
    clause: str = required("")
    severity: str = required("")
    responsible: str = required("")
    status: str = required("", validate=validate.OneOf(FINDING_STATUSES))
    school_id: str = required("")
    class_id: str | None = required(None, nullable=True)
    subject_id: str | None = required(None, nullable=True)
    subgroup: str | None = required(None, nullable=True)
    teacher_id: str | None = required(None, nullable=True)
    student_id: str | None = required(None, nullable=True)
    lesson_id: str | None = required(None, nullable=True)
    mark_id: str | None = required(None, nullable=True)
    term_id: str | None = required(None, nullable=True)
    message: str = required("")
    evidence: dict[str, Any] = required(default_factory=dict)
    date: dt.date
    detected_at: datetime | None = required(None)
    history: list[FindingStep] = required(default_factory=list)


#: Every field of a finding, in the order the API shows them.
FINDING_FIELDS = tuple(f.name for f in dataclasses.fields(Finding))
#: The fields whose JSON value is the value itself (not a date, a moment or the history):
#: what the read models and listings copy as they are.
FINDING_PLAIN_FIELDS = tuple(name for name in FINDING_FIELDS
                             if name not in ("date", "detected_at", "history"))


@dataclass(frozen=True, kw_only=True)
class RuleParametersChanged(MessageData):
    """``rules.parameters.changed``: a school's own rule parameters after a change."""

    parameters: dict[str, Any]
    updated_by: str | None = required(None, nullable=True)


@dataclass(frozen=True, kw_only=True)
class ReportReady(MessageData):
    """``report.ready``: a report made on request or on the checker's schedule."""

    report_id: str = required("")
    kind: str = required("")
    title: str = required("")
    parameters: dict[str, Any] = required(default_factory=dict)
    #: (label, value) pairs
    summary: list[list[Any]] = required(default_factory=list)
    #: each table: name, title, columns, rows (and a chart)
    tables: list[dict[str, Any]] = required(default_factory=list)
    #: whose view it was made for (a teacher's); None: the whole school
    scope: dict[str, Any] | None = required(None, nullable=True)
    #: who asked, or ``schedule`` for the checker's own
    requested_by: str | None = required(None)
    generated_at: datetime | None = required(None)
    #: a new version of a scheduled report names the one it replaces
    replaces: str | None = None
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class ReportFailed(MessageData):
    """``report.failed``: a requested report that could not be made (why, in Russian)."""

    report_id: str = required("")
    kind: str = required("")
    reason: str = required("")


# The printer's events ----------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class PrintCompleted(MessageData):
    """``print.completed``: a document (or a batch of them) in the file store."""

    job_id: str = required("")
    kind: str = required("")
    school_id: str = required("")
    parameters: dict[str, Any] = required(default_factory=dict)
    requested_by: str | None = required(None)
    file_key: str | None = required(None)
    sha256: str | None = required(None)
    pages: int | None = required(None)
    bytes: int | None = required(None)
    file_name: str | None = required(None)
    documents: int | None = required(None)


@dataclass(frozen=True, kw_only=True)
class PrintFailed(MessageData):
    """``print.failed``: a job the printer could not do (why, in Russian)."""

    job_id: str = required("")
    kind: str = required("")
    school_id: str = required("")
    reason: str = required("")


@dataclass(frozen=True, kw_only=True)
class PrintProgress(MessageData):
    """``print.progress``: how many documents of a batch are done."""

    job_id: str = required("")
    done: int = required(0)
    total: int = required(0)


# The backup service's events ---------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class BackupCompleted(MessageData):
    backup_id: str = required("")
    kind: str | None = required(None)
    key: str | None = required(None)
    events: int | None = required(None)
    bytes: int | None = required(None)
    sha256: str | None = required(None)
    created_at: datetime | None = required(None)
    time_range: dict[str, Any] | None = required(None)


@dataclass(frozen=True, kw_only=True)
class BackupVerified(MessageData):
    backup_id: str = required("")
    key: str | None = required(None, nullable=True)
    ok: bool = required(False)
    problems: list[str] = required(default_factory=list)
    verified_at: datetime | None = required(None)
    #: proved by a full trial restore (once per retention cycle), not only by reading
    trial_restore: bool = required(False)


@dataclass(frozen=True, kw_only=True)
class BackupFailed(MessageData):
    backup_id: str = required("")
    kind: str | None = required(None)
    error: str = required("")


@dataclass(frozen=True, kw_only=True)
class BackupPruned(MessageData):
    """``backup.pruned``: retention deleted the archive."""

    backup_id: str = required("")
    key: str | None = required(None, nullable=True)
    pruned_at: datetime | None = required(None)


@dataclass(frozen=True, kw_only=True)
class ArchiveRegistered(MessageData):
    """``archive.registered``: a printed class journal entered in the archive registry."""

    number: int
    registry_number: str
    school_id: str
    class_id: str
    academic_year: str
    pages: int
    sha256: str
    pdf_key: str
    job_id: str
    registered_at: datetime
    responsible: str


# The notifier's events ---------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class NotificationLogged(MessageData):
    """``notification.logged``: one step of a message's delivery log."""

    message_id: str
    status: str
    at: datetime
    kind: str = required("")
    channel: str = required("")
    recipient_kind: str = required("")
    recipient_id: str = required("")
    student_id: str | None = required(None, nullable=True)
    subject: str = required("")
    attempt: int = required(0)
    detail: str | None = required(None, nullable=True)


# Commands ----------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class FindingUpdate(MessageData):
    """``finding.update`` (to the checker): a person marks a finding fixed, waived or open."""

    finding_id: str
    status: str = required("", validate=validate.OneOf(("open", "fixed", "waived")))
    comment: str | None = required(None, nullable=True)
    actor: str = required("api")


@dataclass(frozen=True, kw_only=True)
class RuleParametersUpdate(MessageData):
    """``rules.parameters.update`` (to the checker): a school's own rule parameters."""

    parameters: dict[str, Any] | None = required(None)
    actor: str | None = required(None)


@dataclass(frozen=True, kw_only=True)
class ReportRequest(MessageData):
    """``report.request`` (to the checker): make a report."""

    report_id: str | None = required(None)
    kind: str | None = required(None)
    parameters: dict[str, Any] = required(default_factory=dict)
    scope: dict[str, Any] | None = required(None, nullable=True)
    requested_by: str | None = required(None)


def _print_request_checks(data: Mapping[str, Any]) -> dict[str, Any]:
    if errors := print_kinds.kind_errors(data.get("kind")):
        return {"kind": errors}
    errors_by_parameter = print_kinds.parameter_errors(str(data["kind"]),
                                                       data.get("parameters") or {})
    return {"parameters": errors_by_parameter} if errors_by_parameter else {}


@dataclass(frozen=True, kw_only=True)
class PrintRequest(MessageData):
    """``print.request`` (to the printer, from the gateway and the backup service)."""

    publish_checks: ClassVar[Any] = staticmethod(_print_request_checks)

    job_id: str = required("")
    kind: str | None = required(None)
    parameters: dict[str, Any] | None = required(None)
    requested_by: str = required("api")
    #: whose view it is printed for (a teacher's); None: the school's administration
    scope: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class BackupCreate(MessageData):
    """``backup.create`` (to the backup service): make a backup now."""

    backup_id: str | None = required(None, validate=validate.Regexp(BACKUP_ID))
    scope: str | None = required(None)
    requested_by: str = required("api")


@dataclass(frozen=True, kw_only=True)
class ArchiveYearEnd(MessageData):
    """``archive.year_end`` (to the backup service): print and register every class
    journal of a year (or of the classes named)."""

    academic_year: str = required("", validate=ACADEMIC_YEAR)
    requested_by: str = required("api")
    class_ids: list[str] | None = required(None, nullable=True)


#: Every event type a service publishes → its data.
EVENTS: dict[str, type[MessageData]] = {
    "finding.opened": Finding,
    "finding.closed": Finding,
    "finding.updated": Finding,
    "rules.parameters.changed": RuleParametersChanged,
    "report.ready": ReportReady,
    "report.failed": ReportFailed,
    "print.completed": PrintCompleted,
    "print.failed": PrintFailed,
    "print.progress": PrintProgress,
    "backup.completed": BackupCompleted,
    "backup.verified": BackupVerified,
    "backup.failed": BackupFailed,
    "backup.pruned": BackupPruned,
    "archive.registered": ArchiveRegistered,
    "notification.logged": NotificationLogged,
}
#: Every command type → its data.
COMMANDS: dict[str, type[MessageData]] = {
    "finding.update": FindingUpdate,
    "rules.parameters.update": RuleParametersUpdate,
    "report.request": ReportRequest,
    "print.request": PrintRequest,
    "backup.create": BackupCreate,
    "archive.year_end": ArchiveYearEnd,
}
MESSAGES: dict[str, type[MessageData]] = {**EVENTS, **COMMANDS}


class InvalidMessage(ValueError):
    """A service tried to publish a message that does not fit its schema (a bug)."""

    def __init__(self, message_type: str, errors: dict[str, Any]) -> None:
        super().__init__(f"{message_type} does not fit its schema: {errors}")
        self.message_type = message_type
        self.errors = errors


def message_errors(message_type: str, data: object) -> dict[str, Any]:
    """Field-by-field errors of a service's message (``{}``: it may be published)."""
    cls = MESSAGES.get(message_type)
    if cls is None:
        return {"type": [f"{message_type} has no schema in shared/events/messages.py"]}
    errors = data_errors(cls, data)
    if not errors and cls.publish_checks is not None:
        assert isinstance(data, Mapping)
        errors = dict(cls.publish_checks(data))
    return errors

