"""The Kundoluk → Kozomol webhook contract v1 as marshmallow schemas.

Validation here is structural only (types, required fields, formats). Whether
a structurally valid entry obeys the school regulation is the checker's job, so
a mark "1" or a topic "—" passes. Unknown fields are kept (the contract allows
additive changes), and unknown event types are accepted with any object as
``data``.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from shared.events.owners import is_reserved, owner_of

ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
_ID_RE = re.compile(ID_PATTERN)
EVENT_ID = validate.Regexp(ID_PATTERN, error="must be 1-64 characters of A-Z a-z 0-9 _ . : -")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TERM_KINDS = ("quarter", "half_year", "year")
ABSENCE_REASONS = ("illness", "excused", "unexcused")
WORK_TYPES = (
    "oral", "written", "homework", "test", "control", "dictation",
    "essay", "lab", "practical", "project", "other",
)
MARK_KINDS = ("current", "quarter", "half_year", "year", "exam")
FINAL_MARK_KINDS = ("quarter", "half_year", "year")
#: Languages a person may prefer for Kozomol's messages (Russian, Kyrgyz).
MESSAGE_LANGUAGES = ("ru", "ky")
#: School roles beyond teaching that messages are addressed by.
STAFF_ROLES = ("deputy_director", "director")


def _entity_id(**kwargs: Any) -> fields.String:
    """An entity id from Kundoluk: a non-empty opaque string."""
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


class ContractSchema(Schema):
    """Base: keep fields the sender adds later, so extensions pass through."""

    class Meta:
        unknown = INCLUDE


class TermSchema(ContractSchema):
    id = _entity_id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(TERM_KINDS))
    number = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=4))
    start = fields.Date(required=True)
    end = fields.Date(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["start"] > data["end"]:
            raise ValidationError("must not be before start", "end")


class DeputyDirectorSchema(ContractSchema):
    full_name = _text(200, required=True)
    #: what the deputy answers for, as the school writes it: "по УВР", "по ВР"
    responsibility = _text(100, load_default=None, allow_none=True)


class SchoolCalendarData(ContractSchema):
    # The school's names (optional, added in contract v1.1): what its papers are headed with.
    school_name = _text(300, load_default=None, allow_none=True)
    school_short_name = _text(100, load_default=None, allow_none=True)
    school_address = _text(300, load_default=None, allow_none=True)
    director_name = _text(200, load_default=None, allow_none=True)
    deputy_directors = fields.List(fields.Nested(DeputyDirectorSchema), load_default=list)
    academic_year = fields.String(
        required=True, validate=validate.Regexp(r"^\d{4}-\d{4}$", error="must look like 2026-2027")
    )
    timezone = fields.String(load_default="Asia/Bishkek")
    language_of_instruction = fields.String(load_default="ru", validate=validate.Length(2, 8))
    weekend = fields.List(
        fields.String(validate=validate.OneOf(WEEKDAYS)), load_default=lambda: ["sun"]
    )
    terms = fields.List(fields.Nested(TermSchema), required=True)
    holidays = fields.List(fields.Date(), load_default=list)

    @validates_schema
    def _known_timezone(self, data: dict[str, Any], **_: Any) -> None:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("unknown IANA time zone", "timezone") from exc


def _email(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(max=254), validate.Email()], **kwargs)


def _telegram_chat_id(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Regexp(r"^-?\d{1,20}$|^@[A-Za-z0-9_]{5,32}$",
                                                  error="must be a numeric chat id or @name"),
                         **kwargs)


class TeacherProfileData(ContractSchema):
    teacher_id = _entity_id(required=True)
    full_name = _text(200, required=True)
    # Contacts and message preferences (optional, added for the notifier)
    email = _email(load_default=None, allow_none=True)
    telegram_chat_id = _telegram_chat_id(load_default=None, allow_none=True)
    phone = _text(32, load_default=None, allow_none=True)
    preferred_language = fields.String(load_default=None, allow_none=True,
                                       validate=validate.OneOf(MESSAGE_LANGUAGES))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF_ROLES)), load_default=list)
    #: false = the teacher unsubscribed from Kozomol's messages
    notifications = fields.Boolean(load_default=True)


class RosterStudentSchema(ContractSchema):
    student_id = _entity_id(required=True)
    full_name = _text(200, required=True)
    subgroups = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class ClassRosterData(ContractSchema):
    class_id = _entity_id(required=True)
    academic_year = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{4}$"))
    grade = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=11))
    #: the class as the school writes it, «4 «Б»» (optional, v1.1)
    class_name = _text(40, load_default=None, allow_none=True)
    homeroom_teacher_id = _entity_id(required=True, allow_none=True)
    students = fields.List(fields.Nested(RosterStudentSchema), required=True)


class ParentSchema(ContractSchema):
    full_name = _text(200, required=True)
    relation = _text(50, load_default=None, allow_none=True)
    phone = _text(32, load_default=None, allow_none=True)
    # Optional, added for the notifier: a stable id, contacts, language and consent
    parent_id = _entity_id(load_default=None, allow_none=True)
    email = _email(load_default=None, allow_none=True)
    telegram_chat_id = _telegram_chat_id(load_default=None, allow_none=True)
    preferred_language = fields.String(load_default=None, allow_none=True,
                                       validate=validate.OneOf(MESSAGE_LANGUAGES))
    #: opt-in (clause 4.3): notices about this child only when true
    notifications = fields.Boolean(load_default=False)


class StudentProfileData(ContractSchema):
    student_id = _entity_id(required=True)
    full_name = _text(200, required=True)
    birth_date = fields.Date(load_default=None, allow_none=True)
    parents = fields.List(fields.Nested(ParentSchema), load_default=list)


class PlannedLessonSchema(ContractSchema):
    number = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    planned_date = fields.Date(required=True)
    topic = _text(1000, required=True)


class SubjectPlanData(ContractSchema):
    class_id = _entity_id(required=True)
    subject_id = _entity_id(required=True)
    subject_name = _text(200, required=True)
    subgroup = fields.String(load_default=None, allow_none=True)
    teacher_id = _entity_id(required=True)
    term_id = _entity_id(required=True)
    lessons = fields.List(fields.Nested(PlannedLessonSchema), required=True)


class LessonRecordedData(ContractSchema):
    lesson_id = _entity_id(required=True)
    class_id = _entity_id(required=True)
    subgroup = fields.String(load_default=None, allow_none=True)
    subject_id = _entity_id(required=True)
    #: the subject as the journal names it, "Математика" (optional, v1.1)
    subject_name = _text(200, load_default=None, allow_none=True)
    date = fields.Date(required=True)
    period = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=16))
    teacher_id = _entity_id(required=True)
    scheduled_teacher_id = _entity_id(load_default=None, allow_none=True)
    is_substitution = fields.Boolean(load_default=False)
    topic = _text(2000, load_default="", allow_none=True)
    homework = _text(4000, load_default="", allow_none=True)
    #: The teacher's estimate of the time the homework takes, in minutes (optional:
    #: clause 1.3 judges a class's daily homework load by age only where it is given).
    homework_minutes = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=0, max=600))


class LessonDeletedData(ContractSchema):
    lesson_id = _entity_id(required=True)


class AbsenceSchema(ContractSchema):
    student_id = _entity_id(required=True)
    reason = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(ABSENCE_REASONS)
    )


class AttendanceRecordedData(ContractSchema):
    lesson_id = _entity_id(required=True)
    absent = fields.List(fields.Nested(AbsenceSchema), load_default=list)
    late = fields.List(_entity_id(), load_default=list)


class MarkRecordedData(ContractSchema):
    mark_id = _entity_id(required=True)
    student_id = _entity_id(required=True)
    class_id = _entity_id(required=True)
    subject_id = _entity_id(required=True)
    #: the subject as the journal names it (optional, v1.1)
    subject_name = _text(200, load_default=None, allow_none=True)
    teacher_id = _entity_id(required=True)
    lesson_id = _entity_id(load_default=None, allow_none=True)
    date = fields.Date(required=True)
    value = fields.String(required=True, validate=validate.Length(min=1, max=8))
    work_type = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(WORK_TYPES)
    )
    kind = fields.String(load_default="current", validate=validate.OneOf(MARK_KINDS))
    term_id = _entity_id(load_default=None, allow_none=True)

    @validates_schema
    def _final_marks_name_their_term(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") in FINAL_MARK_KINDS and not data.get("term_id"):
            raise ValidationError("is required for quarter, half-year and year marks", "term_id")


class MarkDeletedData(ContractSchema):
    mark_id = _entity_id(required=True)


class ExemptionRecordedData(ContractSchema):
    student_id = _entity_id(required=True)
    subject_id = _entity_id(required=True)
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    reason = _text(500, load_default=None, allow_none=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["from_"] > data["to"]:
            raise ValidationError("must not be before from", "to")


class PersonalDataVerifiedData(ContractSchema):
    class_id = _entity_id(required=True)
    term_id = _entity_id(required=True)
    verified_by = _entity_id(required=True)


class PlatformOutageData(ContractSchema):
    started_at = fields.AwareDateTime(required=True, format="iso")
    ended_at = fields.AwareDateTime(required=True, format="iso")

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["started_at"] > data["ended_at"]:
            raise ValidationError("must not be before started_at", "ended_at")


class StudentVisitsSchema(ContractSchema):
    student_id = _entity_id(required=True)
    student_visits = fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=0, max=10000))
    parent_visits = fields.Integer(required=True, strict=True,
                                   validate=validate.Range(min=0, max=10000))


class JournalVisitsData(ContractSchema):
    """One day's visits to the journal of one class: how many times each student and
    their parents (together) opened it; counts only, no page content (clause 4.3)."""

    class_id = _entity_id(required=True)
    date = fields.Date(required=True)
    visits = fields.List(fields.Nested(StudentVisitsSchema), required=True)


class UnknownTypeData(ContractSchema):
    """Data of an event type this version does not know: any object."""


DATA_SCHEMAS: dict[str, type[Schema]] = {
    "school.calendar": SchoolCalendarData,
    "teacher.profile": TeacherProfileData,
    "class.roster": ClassRosterData,
    "student.profile": StudentProfileData,
    "subject.plan": SubjectPlanData,
    "lesson.recorded": LessonRecordedData,
    "lesson.deleted": LessonDeletedData,
    "attendance.recorded": AttendanceRecordedData,
    "mark.recorded": MarkRecordedData,
    "mark.deleted": MarkDeletedData,
    "exemption.recorded": ExemptionRecordedData,
    "personal_data.verified": PersonalDataVerifiedData,
    "platform.outage": PlatformOutageData,
    "journal.visits": JournalVisitsData,
}

class EnvelopeSchema(ContractSchema):
    id = fields.String(required=True, validate=EVENT_ID)
    type = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
                                 error="must be a dotted event type such as mark.recorded"),
    )
    school_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    data = fields.Dict(required=True)

    @validates_schema
    def _not_a_service_type(self, data: dict[str, Any], **_: Any) -> None:
        # The services' own messages never come from Kundoluk: one posing as
        # them (finding.opened, print.completed, ...) is refused, not stored.
        event_type = data.get("type")
        if isinstance(event_type, str) and is_reserved(event_type):
            raise ValidationError(
                f"is reserved: {event_type.split('.', 1)[0]}.* are Kozomol's own messages "
                f"(the {owner_of(event_type)} service's) and never come from Kundoluk", "type")

    @validates_schema
    def _wildcard_school_only_for_outages(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("school_id") == "*" and data.get("type") != "platform.outage":
            raise ValidationError('"*" is allowed only for platform.outage', "school_id")
        if data.get("school_id") != "*" and not _ID_RE.match(data.get("school_id", "")):
            raise ValidationError("must be 1-64 characters of A-Z a-z 0-9 _ . : -", "school_id")


_ENVELOPE = EnvelopeSchema()
_DATA = {event_type: schema() for event_type, schema in DATA_SCHEMAS.items()}
_UNKNOWN = UnknownTypeData()


def validation_errors(envelope: object) -> dict[str, Any]:
    """Field-by-field errors of one envelope (``{}`` when it is valid).

    Data errors are nested under ``data`` so the sender sees the exact path,
    e.g. ``{"data": {"value": ["Missing data for required field."]}}``.
    """
    if not isinstance(envelope, dict):
        return {"_schema": ["an event must be a JSON object"]}
    errors: dict[str, Any] = dict(_ENVELOPE.validate(envelope))
    data = envelope.get("data")
    if isinstance(data, dict) and "type" not in errors:
        data_errors = _DATA.get(envelope["type"], _UNKNOWN).validate(data)
        if data_errors:
            errors["data"] = data_errors
    return _string_keys(errors)


def _string_keys(errors: Any) -> Any:
    """Marshmallow keys a list item's errors by its index (an int); JSON keys are strings,
    so ``students: [null]`` reads ``{"students": {"0": [...]}}`` in the answer and the
    quarantine alike."""
    if isinstance(errors, dict):
        return {str(key): _string_keys(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_string_keys(value) for value in errors]
    return errors


def is_known_type(event_type: str) -> bool:
    return event_type in DATA_SCHEMAS
