"""Typed message data: a dataclass is the one definition of a message's ``data``.

From each dataclass this module derives

- a marshmallow schema (:func:`schema_of`), which validates what a publisher
  sends (``new_envelope``) and which apispec turns into the published JSON
  Schema, exactly as the contract's schemas are (decision 4); and
- a loader (:func:`from_data`) that gives a consumer the typed object.

The two differ on purpose. Publishing is strict: a field without a default,
or declared with :func:`required`, must be there, with the right type, and
nothing unknown may be added. Loading is tolerant, as the consumers were when
they read the dicts by hand: a missing or null field takes its default,
unknown fields are ignored (a newer publisher may add some), and only a field
without any default is indispensable (:class:`MessageDataError`).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from marshmallow import RAISE, Schema, fields, validate

T = TypeVar("T")


class MessageDataError(ValueError):
    """A consumed message lacks a field its consumer cannot do without, or has one of the
    wrong kind (a message no publisher validated: it is retried, then dead-lettered)."""


def required(default: Any = dataclasses.MISSING, *,
             default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
             nullable: bool = False, validate: validate.Validator | None = None) -> Any:
    """A field every publisher must send (null only if ``nullable``); a consumer reading a
    partial message (an older publisher's, a test's) gets ``default``."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={"required": True, "nullable": nullable,
                                       "validate": validate})


# Publishing: the marshmallow schema of a dataclass ---------------------------------------
_SCHEMAS: dict[type, type[Schema]] = {}
_INSTANCES: dict[type, Schema] = {}
_HINTS: dict[type, dict[str, Any]] = {}


def schema_of(cls: type) -> type[Schema]:
    """The marshmallow schema class of message data ``cls`` (named after it)."""
    if cls not in _SCHEMAS:
        attributes: dict[str, Any] = {
            f.name: _field(_hints(cls)[f.name], f) for f in dataclasses.fields(cls)}
        schema: type[Schema] = MessageSchema.from_dict(attributes, name=cls.__name__)
        schema.__doc__ = cls.__doc__
        _SCHEMAS[cls] = schema
    return _SCHEMAS[cls]


class MessageSchema(Schema):
    """Base of the derived schemas: a publisher may not add a field the schema lacks."""

    class Meta:
        unknown = RAISE


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _field(hint: Any, f: dataclasses.Field[Any] | None = None) -> fields.Field:
    nullable, inner = _unwrap_optional(hint)
    kwargs: dict[str, Any] = {"allow_none": nullable}
    if f is not None:
        kwargs["required"] = bool(f.metadata.get("required")) or not _has_default(f)
        if f.metadata.get("required"):
            kwargs["allow_none"] = bool(f.metadata.get("nullable"))
        if f.metadata.get("validate") is not None:
            kwargs["validate"] = f.metadata["validate"]
        if f.metadata.get("description"):
            kwargs["metadata"] = {"description": f.metadata["description"]}
    return _plain_field(inner, kwargs)


def _plain_field(hint: Any, kwargs: dict[str, Any]) -> fields.Field:
    origin = get_origin(hint)
    if hint is str:
        return fields.String(**kwargs)
    if hint is bool:
        return fields.Boolean(**kwargs)
    if hint is int:
        return fields.Integer(strict=True, **kwargs)
    if hint is float:
        return fields.Float(**kwargs)
    if hint is datetime:
        return fields.AwareDateTime(format="iso", **kwargs)
    if hint is date:
        return fields.Date(**kwargs)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return fields.Nested(schema_of(hint), **kwargs)
    if origin in (list, tuple):
        (item,) = get_args(hint)[:1]
        return fields.List(_field(item), **kwargs)
    if origin is dict or hint is dict:
        return fields.Dict(keys=fields.String(), **kwargs)
    if hint is Any:
        return fields.Raw(**kwargs)
    raise TypeError(f"no marshmallow field for {hint!r}")


def _unwrap_optional(hint: Any) -> tuple[bool, Any]:
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return len(args) < len(get_args(hint)), args[0]
    return False, hint


def data_errors(cls: type, data: object) -> dict[str, Any]:
    """Field-by-field errors of ``data`` as ``cls`` (``{}``: it may be published)."""
    if not isinstance(data, Mapping):
        return {"_schema": ["message data must be an object"]}
    errors: dict[str, Any] = dict(_instance(cls).validate(dict(data)))
    return errors


def _instance(cls: type) -> Schema:
    if cls not in _INSTANCES:
        _INSTANCES[cls] = schema_of(cls)()
    return _INSTANCES[cls]


# Consuming: the typed object of a message's data -----------------------------------------
def from_data(cls: type[T], data: Mapping[str, Any]) -> T:
    """``data`` as a ``cls``: missing and null fields take their defaults, unknown ones are
    ignored; a field without a default that is missing raises :class:`MessageDataError`."""
    if not isinstance(data, Mapping):
        raise MessageDataError(f"{cls.__name__}: data is not an object")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = data.get(f.name)
        nullable, hint = _unwrap_optional(hints[f.name])
        if value is None:
            if _has_default(f):
                continue
            if nullable and f.name in data:
                values[f.name] = None
                continue
            raise MessageDataError(f"{cls.__name__}: {f.name} is missing")
        try:
            values[f.name] = _coerce(hint, value)
        except (TypeError, ValueError) as exc:
            raise MessageDataError(f"{cls.__name__}: {f.name}: {exc}") from exc
    return cls(**values)


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _coerce(hint: Any, value: Any) -> Any:
    if hint is str:
        return value if isinstance(value, str) else str(value)
    if hint is int:
        return value if isinstance(value, int) else int(value)
    if hint is float:
        return float(value)
    if hint is bool:
        return bool(value)
    if hint is datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if hint is date:
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_data(hint, value)
    origin = get_origin(hint)
    if origin in (list, tuple):
        (item,) = get_args(hint)[:1]
        _, item = _unwrap_optional(item)
        return [None if v is None else _coerce(item, v) for v in value]
    if origin is dict or hint is dict:
        return dict(value)
    return value


def to_data(message: Any) -> dict[str, Any]:
    """A message data object as JSON-ready data (dates and moments in ISO 8601)."""
    return {f.name: _plain(getattr(message, f.name)) for f in dataclasses.fields(message)}


def _plain(value: Any) -> Any:
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_data(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
