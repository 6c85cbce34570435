"""The contract's structural validation and its published JSON Schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from shared.events.jsonschema import event_json_schema
from shared.events.schemas import DATA_SCHEMAS, validation_errors
from tests.support import SAMPLE_DATA, make_event

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("event_type", sorted(DATA_SCHEMAS))
def test_every_event_type_sample_is_valid(event_type: str) -> None:
    assert validation_errors(make_event(event_type)) == {}


@pytest.mark.parametrize("event_type", sorted(DATA_SCHEMAS))
def test_each_required_data_field_is_named_when_missing(event_type: str) -> None:
    schema = DATA_SCHEMAS[event_type]()
    required = [f.data_key or name for name, f in schema.fields.items() if f.required]
    assert required, f"{event_type} has no required field"
    for field_name in required:
        event = make_event(event_type)
        del event["data"][field_name]
        errors = validation_errors(event)
        assert field_name in errors["data"], (event_type, field_name, errors)


@pytest.mark.parametrize(("field", "value"), [
    ("id", ""), ("id", "a" * 65), ("id", "has space"), ("id", "ид"),
    ("type", "Mark"), ("type", "mark"), ("occurred_at", "2026-09-02T11:05:13"),
    ("occurred_at", "yesterday"), ("school_id", ""), ("school_id", "*"), ("data", []),
])
def test_envelope_errors_name_the_field(field: str, value: object) -> None:
    event = make_event()
    event[field] = value
    assert field in validation_errors(event)


@pytest.mark.parametrize(("field", "value"), [
    ("value", 5), ("value", ""), ("value", "123456789"), ("work_type", "quiz"),
    ("kind", "weekly"), ("date", "02.09.2026"), ("lesson_id", 17),
])
def test_mark_data_errors_name_the_field(field: str, value: object) -> None:
    event = make_event("mark.recorded", **{field: value})
    assert field in validation_errors(event)["data"]


def test_final_marks_need_their_term() -> None:
    errors = validation_errors(make_event("mark.recorded", kind="quarter", term_id=None))
    assert "term_id" in errors["data"]
    assert validation_errors(make_event("mark.recorded", kind="quarter", term_id="q1")) == {}


def test_content_that_breaks_the_regulation_is_still_structurally_valid() -> None:
    assert validation_errors(make_event("mark.recorded", value="1", work_type=None)) == {}
    assert validation_errors(make_event("lesson.recorded", topic="—", homework="")) == {}


def test_unknown_types_and_unknown_fields_are_accepted() -> None:
    future = make_event("homework.checked")
    future["data"] = {"anything": [1, 2]}
    assert validation_errors(future) == {}
    extended = make_event("mark.recorded", comment="added in a later contract version")
    extended["trace"] = "x"
    assert validation_errors(extended) == {}


def test_ordering_checks_on_dates() -> None:
    assert "to" in validation_errors(
        make_event("exemption.recorded", **{"from": "2026-10-01", "to": "2026-09-01"}))["data"]
    assert "ended_at" in validation_errors(make_event(
        "platform.outage", started_at="2026-09-02T10:00:00+06:00",
        ended_at="2026-09-02T09:00:00+06:00"))["data"]
    assert "timezone" in validation_errors(
        make_event("school.calendar", timezone="Mars/Olympus"))["data"]


def test_not_an_object() -> None:
    assert validation_errors([1, 2]) == {"_schema": ["an event must be a JSON object"]}


@pytest.mark.parametrize("event_type", sorted(DATA_SCHEMAS))
def test_published_json_schema_is_current(event_type: str) -> None:
    """docs/schemas is regenerated with `kozomol schemas export`; it must not drift."""
    published = json.loads((SCHEMA_DIR / f"{event_type}.json").read_text())
    assert published == event_json_schema(event_type)


@pytest.mark.parametrize("event_type", sorted(DATA_SCHEMAS))
def test_json_schema_and_marshmallow_agree_on_samples(event_type: str) -> None:
    schema = event_json_schema(event_type)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(make_event(event_type))) == []
    broken = copy.deepcopy(make_event(event_type))
    first_required = next(iter(SAMPLE_DATA[event_type]))
    broken["data"][first_required] = {"not": "valid"}
    assert list(validator.iter_errors(broken)), "the JSON Schema let a wrong type through"
    assert validation_errors(broken), "marshmallow let a wrong type through"
