"""JSON Schema (draft 2020-12) of every event type, generated from the marshmallow schemas.

apispec's marshmallow converter does the translation, so the published
schemas and the gateway's validation cannot drift apart; the files under
``docs/schemas/`` (the contract) and ``docs/schemas/internal/`` (the services'
own messages, ``shared/events/messages.py``) are regenerated with
``kozomol schemas export`` and a test keeps them current.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, validate

from shared.events.messages import COMMANDS, MESSAGES
from shared.events.owners import SERVICE_NAMESPACES
from shared.events.schemas import DATA_SCHEMAS, EnvelopeSchema
from shared.events.typed import schema_of

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_REF_PREFIX = "#/components/schemas/"


def data_schema_name(event_type: str) -> str:
    return DATA_SCHEMAS[event_type].__name__


@cache
def _components() -> dict[str, Any]:
    spec = APISpec("Kozomol events", "1", openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()])
    add_event_components(spec)
    return dict(spec.to_dict()["components"]["schemas"])


def add_event_components(spec: APISpec) -> None:
    """Register the envelope and every event type's data schema as OpenAPI components."""
    spec.components.schema("EventEnvelope", schema=EnvelopeSchema)
    for schema in DATA_SCHEMAS.values():
        spec.components.schema(schema.__name__, schema=schema)


def event_json_schema(event_type: str) -> dict[str, Any]:
    """A standalone JSON Schema of one event type's envelope and data."""
    components = _components()
    envelope = copy.deepcopy(components["EventEnvelope"])
    envelope["properties"]["type"] = {"const": event_type}
    envelope["properties"]["data"] = {"$ref": _REF_PREFIX + data_schema_name(event_type)}
    defs = {name: components[name] for name in _reachable(envelope, components)}
    document = {
        "$schema": DIALECT,
        "title": f"Kundoluk webhook event {event_type} (contract v1)",
        **envelope,
        "$defs": defs,
    }
    text = json.dumps(document).replace(_REF_PREFIX, "#/$defs/")
    result: dict[str, Any] = json.loads(text)
    return result


class MessageEnvelopeSchema(Schema):
    """The envelope of a service's own message, as ``new_envelope`` writes it."""

    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+-[0-9a-f]{32}$"))
    type = fields.String(required=True)
    school_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    data = fields.Dict(required=True)
    #: the publishing service (consumers admit a service's event only from its owner)
    source = fields.String(required=True, validate=validate.OneOf(
        sorted({*SERVICE_NAMESPACES.values(), "gateway"})))


@cache
def _message_components() -> dict[str, Any]:
    spec = APISpec("Kozomol internal messages", "1", openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()])
    spec.components.schema("MessageEnvelope", schema=MessageEnvelopeSchema)
    for cls in {cls.__name__: cls for cls in MESSAGES.values()}.values():
        spec.components.schema(cls.__name__, schema=schema_of(cls))
    return dict(spec.to_dict()["components"]["schemas"])


def message_json_schema(message_type: str) -> dict[str, Any]:
    """A standalone JSON Schema of one internal message type's envelope and data."""
    components = _message_components()
    envelope = copy.deepcopy(components["MessageEnvelope"])
    envelope["properties"]["type"] = {"const": message_type}
    envelope["properties"]["data"] = {"$ref": _REF_PREFIX + MESSAGES[message_type].__name__}
    defs = {name: components[name] for name in _reachable(envelope, components)}
    what = "command" if message_type in COMMANDS else "event"
    document = {
        "$schema": DIALECT,
        "title": f"Kozomol internal {what} {message_type}",
        **envelope,
        "$defs": defs,
    }
    text = json.dumps(document).replace(_REF_PREFIX, "#/$defs/")
    result: dict[str, Any] = json.loads(text)
    return result


def _reachable(root: Any, components: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
                name = ref.removeprefix(_REF_PREFIX)
                if name not in seen:
                    seen.append(name)
                    stack.append(components[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(seen)
