"""The envelope every event travels in, as the services see it after the gateway."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from shared.events.messages import InvalidMessage, message_errors
from shared.events.owners import PUBLISHER_PREFIXES, owner_of

#: the id prefix of commands (sent by several services, each naming itself as ``source``)
COMMAND_PREFIX = "cmd"


def new_envelope(prefix: str, event_type: str, school_id: str, data: dict[str, Any],
                 now: datetime, *, source: str | None = None) -> dict[str, Any]:
    """An event (or command) a service publishes: a fresh id ``<prefix>-<32 hex>``.

    ``source`` names the publishing service (its id prefix says it unless
    given); consumers admit a service's event only from its owner.

    Every service's message is built here, so here its ``data`` is checked
    against its schema (``shared/events/messages.py``): a command, or an event
    in a service's namespace, that does not fit raises :class:`InvalidMessage`
    before it reaches any outbox or broker.
    """
    if prefix == COMMAND_PREFIX or owner_of(event_type) is not None:
        errors = message_errors(event_type, data)
        if errors:
            raise InvalidMessage(event_type, errors)
    envelope = {"id": f"{prefix}-{secrets.token_hex(16)}", "type": event_type,
                "school_id": school_id, "occurred_at": now.isoformat(), "data": data}
    source = source or PUBLISHER_PREFIXES.get(prefix)
    if source:
        envelope["source"] = source
    return envelope


class MalformedEvent(ValueError):
    """A message body that is not an event envelope (it is never retried into health)."""


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    school_id: str
    occurred_at: datetime
    data: dict[str, Any]
    #: the publishing service named in the envelope (services' own messages only)
    source: str | None = None
    #: the exchange it arrived through (``shared.events.owners.Door``), set by the consumer
    door: str | None = None

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any], *, door: str | None = None) -> Event:
        try:
            source = envelope.get("source")
            return cls(
                id=str(envelope["id"]),
                type=str(envelope["type"]),
                school_id=str(envelope["school_id"]),
                occurred_at=datetime.fromisoformat(envelope["occurred_at"]),
                data=dict(envelope["data"]),
                source=source if isinstance(source, str) else None,
                door=door,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedEvent(f"not an event envelope: {exc!r}") from exc

    @classmethod
    def from_json(cls, body: bytes | str, *, door: str | None = None) -> Event:
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedEvent("body is not JSON") from exc
        if not isinstance(envelope, dict):
            raise MalformedEvent("body is not a JSON object")
        return cls.from_envelope(envelope, door=door)

    def to_envelope(self) -> dict[str, Any]:
        envelope = {
            "id": self.id,
            "type": self.type,
            "school_id": self.school_id,
            "occurred_at": self.occurred_at.isoformat(),
            "data": self.data,
        }
        if self.source is not None:
            envelope["source"] = self.source
        return envelope

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_envelope())
