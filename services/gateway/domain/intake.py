"""Reading a webhook body: one event or a batch, and which items are valid (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.events.fast_validation import surely_valid
from shared.events.schemas import validation_errors

#: How deep an event may nest (the contract's deepest is 5 levels); deeper items are
#: refused. The JSON reader goes to 1,024 levels but the writer stops at 254, so
#: a deeper item could be neither published nor kept in the quarantine.
MAX_DEPTH = 32


@dataclass(frozen=True)
class BodyError(Exception):
    status: int
    code: str
    message: str
    details: Any = None


@dataclass(frozen=True)
class Rejection:
    index: int | None
    id: str | None
    errors: dict[str, Any]
    item: Any


@dataclass
class ParsedDelivery:
    is_batch: bool
    valid: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def parse_delivery(body: bytes, *, max_events: int) -> ParsedDelivery:
    """Split a verified body into valid events and rejected items.

    Raises :class:`BodyError` when the body as a whole cannot be taken.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "not_utf8", "the body is not UTF-8") from None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, "malformed_json", "the body is not valid JSON",
                        {"position": exc.pos}) from None
    if isinstance(document, dict) and "events" in document and "type" not in document:
        items = document["events"]
        if not isinstance(items, list) or not items:
            raise BodyError(422, "invalid_batch", "a batch needs a non-empty events list",
                            {"events": ["must be a non-empty list of events"]})
        if len(items) > max_events:
            raise BodyError(413, "too_many_events",
                            f"a batch holds at most {max_events} events",
                            {"events": len(items), "limit": max_events})
        parsed = ParsedDelivery(is_batch=True)
        for index, item in enumerate(items):
            _classify(parsed, item, index)
        return parsed
    if not isinstance(document, dict):
        raise BodyError(422, "invalid_body",
                        'the body must be an event object or {"events": [...]}')
    parsed = ParsedDelivery(is_batch=False)
    _classify(parsed, document, None)
    return parsed


def _classify(parsed: ParsedDelivery, item: Any, index: int | None) -> None:
    if nesting_depth(item) > MAX_DEPTH:
        event_id = item.get("id") if isinstance(item, dict) else None
        parsed.rejected.append(Rejection(
            index=index, id=event_id if isinstance(event_id, str) else None,
            errors={"_schema": [f"nested deeper than {MAX_DEPTH} levels"]},
            item=cut_at_depth(item, MAX_DEPTH)))
        return
    # Most events are valid: the compiled check vouches for them in a fraction of
    # marshmallow's time; marshmallow words the errors of the rest.
    errors = {} if surely_valid(item) else validation_errors(item)
    if errors:
        event_id = item.get("id") if isinstance(item, dict) else None
        parsed.rejected.append(Rejection(
            index=index,
            id=event_id if isinstance(event_id, str) else None,
            errors=errors,
            item=item,
        ))
    else:
        parsed.valid.append(item)


def nesting_depth(value: Any) -> int:
    """How many objects and arrays deep ``value`` goes (a scalar: 0); no recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def cut_at_depth(value: Any, depth: int) -> Any:
    """``value`` with whatever lies deeper than ``depth`` replaced by ``"…"`` (to keep it)."""
    if not isinstance(value, dict | list):
        return value
    if depth <= 0:
        return "…"
    if isinstance(value, dict):
        return {key: cut_at_depth(child, depth - 1) for key, child in value.items()}
    return [cut_at_depth(child, depth - 1) for child in value]
