"""What a report request may ask for (validated before anything is sent to the checker)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

ENTITY = validate.Length(min=1, max=64)
_RUSSIAN_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


class SchoolDate(fields.Date):
    """A date as ISO (2026-10-01) or as school staff write it (01.10.2026); dumped as ISO."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and (found := _RUSSIAN_DATE.match(value.strip())):
            day, month, year = (int(part) for part in found.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        return super()._deserialize(value, attr, data, **kwargs)


class FillRateParameters(Schema):
    date_from = SchoolDate()
    date_to = SchoolDate()
    class_id = fields.String(validate=ENTITY)
    teacher_id = fields.String(validate=ENTITY)
    lessons = fields.Boolean()  # list the lessons behind each row

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "date_from" in data and "date_to" in data and data["date_from"] > data["date_to"]:
            raise ValidationError("must not be after date_to", "date_from")
        if "date_from" in data and "date_to" in data and \
                (data["date_to"] - data["date_from"]).days > 400:
            raise ValidationError("the period is at most 400 days", "date_to")


class QuarterAnalysisParameters(Schema):
    class_id = fields.String(required=True, validate=ENTITY)
    term_id = fields.String(validate=ENTITY)


class ProgramCompletionParameters(Schema):
    on = SchoolDate()
    class_id = fields.String(validate=ENTITY)


class TeacherSummaryParameters(Schema):
    term_id = fields.String(validate=ENTITY)
    teacher_id = fields.String(validate=ENTITY)


class AcademicResultsParameters(Schema):
    by = fields.String(validate=validate.OneOf(("class", "subject", "teacher", "parallel")))
    term_id = fields.String(validate=ENTITY)  # a quarter, a half-year or the year
    basis = fields.String(validate=validate.OneOf(("final", "current")))
    class_id = fields.String(validate=ENTITY)
    subject_id = fields.String(validate=ENTITY)
    teacher_id = fields.String(validate=ENTITY)


class MarksObjectivityParameters(Schema):
    term_id = fields.String(validate=ENTITY)
    class_id = fields.String(validate=ENTITY)
    subject_id = fields.String(validate=ENTITY)
    teacher_id = fields.String(validate=ENTITY)


class JournalVisitsParameters(Schema):
    class_id = fields.String(validate=ENTITY)
    days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))


PARAMETERS: dict[str, type[Schema]] = {
    "fill_rate": FillRateParameters,
    "quarter_analysis": QuarterAnalysisParameters,
    "program_completion": ProgramCompletionParameters,
    "teacher_summary": TeacherSummaryParameters,
    "academic_results": AcademicResultsParameters,
    "marks_objectivity": MarksObjectivityParameters,
    "journal_visits": JournalVisitsParameters,
}


def request_errors(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(errors by field, the parameters as JSON) for a ``POST /api/v1/reports`` body."""
    if not isinstance(body, dict):
        return {"_schema": ["expected {kind, parameters, school_id}"]}, {}
    unknown = set(body) - {"kind", "parameters", "school_id"}
    if unknown:
        return {name: ["unknown field"] for name in sorted(unknown)}, {}
    schema = PARAMETERS.get(str(body.get("kind")))
    if schema is None:
        return {"kind": [f"must be one of {', '.join(PARAMETERS)}"]}, {}
    raw = body.get("parameters", {})
    try:
        loaded = schema().load(raw if raw is not None else {})
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return {"parameters": messages}, {}
    return {}, schema().dump(loaded)
