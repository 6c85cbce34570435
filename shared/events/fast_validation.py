"""A fast first check of an event, compiled from its published JSON Schema (fastjsonschema).

marshmallow's ``validate`` costs 60-200 µs per event, the largest CPU cost of
the intake after HTTP itself (issue 22). Most events are valid, so the intake
first asks :func:`surely_valid`; only an event it does not vouch for goes
through marshmallow (``schemas.validation_errors``), which also words the
errors, so a refused event gets exactly the answer it got before.

:func:`surely_valid` must never vouch for an event marshmallow would refuse.
It therefore covers an event type only when everything its marshmallow schema
checks is either in the JSON Schema (types, required fields, lengths, ranges,
choices, patterns: what apispec translates) or re-checked here with
marshmallow's own code:

- date and date-time fields (the JSON Schema's ``format`` is not calendar
  checked here) are deserialised by the marshmallow field itself; a type with
  such a field inside a list or nested object is not covered;
- schema-level checks (``@validates_schema``) are called on the raw event when
  they read nothing but raw values (listed in ``_RAW_SAFE_HOOKS``); a type with
  any other is not covered;
- a field of a class or with a validator outside the translated set is not
  covered (the whole type falls back to marshmallow).

The JSON Schema is compiled as draft 4, whose ``integer`` is strict (``1.0``
and ``true`` are refused, as marshmallow's ``strict=True`` refuses ``1.0``);
defaults are never written into the event.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from typing import Any

import fastjsonschema
from marshmallow import Schema, ValidationError, fields, validate

from shared.events.jsonschema import event_json_schema
from shared.events.schemas import _ENVELOPE, DATA_SCHEMAS, EnvelopeSchema

_DRAFT4 = "http://json-schema.org/draft-04/schema#"
_TRANSLATED_FIELDS = (fields.String, fields.Integer, fields.Boolean, fields.Date,
                      fields.AwareDateTime, fields.List, fields.Nested, fields.Dict)
_TRANSLATED_VALIDATORS = (validate.Length, validate.Range, validate.OneOf, validate.Regexp)
_DATE_FIELDS = (fields.Date, fields.DateTime)
#: schema-level checks that read only raw strings from the event, so they can be called
#: on the raw event as it came (class name -> hook method names)
_RAW_SAFE_HOOKS: dict[str, frozenset[str]] = {
    "EnvelopeSchema": frozenset({"_not_a_service_type", "_wildcard_school_only_for_outages"}),
    "MarkRecordedData": frozenset({"_final_marks_name_their_term"}),
}

Check = Callable[[dict[str, Any]], bool]
_checks: dict[str, Check | None] = {}
_lock = threading.Lock()


def surely_valid(event: object) -> bool:
    """True only if marshmallow would find no error in ``event``; False says nothing."""
    if not isinstance(event, dict):
        return False
    event_type = event.get("type")
    if not isinstance(event_type, str):
        return False
    check = _checks.get(event_type, _missing)
    if check is _missing:
        check = _compiled(event_type)
    return check is not None and check(event)


def _missing(_event: dict[str, Any]) -> bool:  # a marker, never called
    return False


def _compiled(event_type: str) -> Check | None:
    with _lock:
        if event_type not in _checks:
            _checks[event_type] = _compile(event_type) if event_type in DATA_SCHEMAS else None
        return _checks[event_type]


def _compile(event_type: str) -> Check | None:
    data_schema = DATA_SCHEMAS[event_type]()
    if not (_covered(EnvelopeSchema) and _covered(type(data_schema))):
        return None
    document = _as_draft4(event_json_schema(event_type))
    document["$schema"] = _DRAFT4
    structure = fastjsonschema.compile(document, use_default=False)
    envelope_dates = list(_top_level_dates(_ENVELOPE))
    data_dates = list(_top_level_dates(data_schema))
    hooks = [*_hooks(_ENVELOPE), *_hooks(data_schema)]

    def check(event: dict[str, Any]) -> bool:
        try:
            structure(event)
            for name, field in envelope_dates:
                field.deserialize(event[name])
            data = event["data"]
            for name, field in data_dates:
                value = data.get(name)
                if value is not None:
                    field.deserialize(value)
            for hook, raw in hooks:
                hook(raw(event))
        except (fastjsonschema.JsonSchemaException, ValidationError):
            return False
        return True

    return check


def _covered(schema_class: type[Schema], *, nested: bool = False) -> bool:
    """Everything ``schema_class`` checks is in its JSON Schema or re-checked here."""
    allowed = _RAW_SAFE_HOOKS.get(schema_class.__name__, frozenset())
    if nested and allowed:
        return False  # hooks are called on the top-level objects only
    for name in dir(schema_class):
        if hasattr(getattr(schema_class, name, None), "__marshmallow_hook__") \
                and name not in allowed:
            return False
    return all(_field_covered(field, top_level=not nested)
               for field in schema_class._declared_fields.values())


def _field_covered(field: fields.Field, *, top_level: bool) -> bool:
    if not isinstance(field, _TRANSLATED_FIELDS):
        return False
    if isinstance(field, _DATE_FIELDS) and not top_level:
        return False
    if not all(isinstance(v, _TRANSLATED_VALIDATORS) for v in field.validators):
        return False
    if isinstance(field, fields.List):
        return _field_covered(field.inner, top_level=False)
    if isinstance(field, fields.Nested):
        nested = field.nested
        return isinstance(nested, type) and issubclass(nested, Schema) \
            and _covered(nested, nested=True)
    return True


def _top_level_dates(schema: Schema) -> Iterator[tuple[str, fields.Field]]:
    for name, field in schema.fields.items():
        if isinstance(field, _DATE_FIELDS):
            yield field.data_key or name, field


def _hooks(schema: Schema) -> Iterator[tuple[Callable[[dict[str, Any]], None],
                                             Callable[[dict[str, Any]], dict[str, Any]]]]:
    names = _RAW_SAFE_HOOKS.get(type(schema).__name__, frozenset())
    is_envelope = isinstance(schema, EnvelopeSchema)
    for name in sorted(names):
        yield getattr(schema, name), (_itself if is_envelope else _data_of)


def _itself(event: dict[str, Any]) -> dict[str, Any]:
    return event


def _data_of(event: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = event["data"]
    return data


def _as_draft4(node: Any) -> Any:
    """``const`` (draft 6) as a one-value ``enum``, which draft 4 knows."""
    if isinstance(node, dict):
        converted = {key: _as_draft4(value) for key, value in node.items()}
        if "const" in converted:
            converted["enum"] = [converted.pop("const")]
        return converted
    if isinstance(node, list):
        return [_as_draft4(value) for value in node]
    return copy.copy(node)
