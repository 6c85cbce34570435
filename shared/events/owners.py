"""Who may publish which message, and through which door (pure).

Kundoluk's events enter through the gateway's intake onto the public events
exchange. The services' own messages (``finding.*``, ``print.*``, ...) travel
on the internal exchange, which the intake never publishes to, and carry the
publishing service in the envelope's ``source``. A consumer admits an event
only when the door it came through and its source fit its type
(:func:`admission_refusal`), so a signed webhook cannot pose as a service.
"""

from __future__ import annotations

from typing import Literal

#: The namespace (first segment of a type) → the service that owns it.
#: Every event and command in these namespaces is the services' own; the
#: webhook contract reserves them (docs/webhooks.md, "Reserved types").
SERVICE_NAMESPACES: dict[str, str] = {
    "finding": "checker",
    "rules": "checker",
    "report": "checker",
    "print": "printer",
    "backup": "backup",
    "archive": "backup",
    "notification": "notifier",
}

#: The id prefix of ``new_envelope`` → the service that publishes events with it
#: (commands, ``cmd-…``, are sent by several services and name their sender).
PUBLISHER_PREFIXES: dict[str, str] = {
    "chk": "checker",
    "prn": "printer",
    "bak": "backup",
    "ntf": "notifier",
}

#: The door a message came through, named after its exchange; ``direct`` is the
#: broker's default exchange, through which an operator moves dead letters back
#: into a service's queue (never used by the intake).
Door = Literal["public", "internal", "commands", "direct"]


def owner_of(event_type: str) -> str | None:
    """The service owning ``event_type``, or None for Kundoluk's (and unknown) types."""
    return SERVICE_NAMESPACES.get(event_type.split(".", 1)[0])


def is_reserved(event_type: str) -> bool:
    """A type only a service may publish: never accepted from a webhook."""
    return owner_of(event_type) is not None


def admission_refusal(event_type: str, door: str | None, source: str | None) -> str | None:
    """Why an event must not be applied (None: it may).

    - commands arrive only on the commands exchange, which only services reach;
    - a service's event arrives only on the internal exchange, from its owner;
    - anything else (Kundoluk's types, unknown types) arrives only on the
      public exchange;
    - a message moved back into a queue by an operator (``direct``) is judged
      by its type: a service's event still needs its owner as source.

    An event that came through no door (``None``: not from the broker) is
    judged like one from the public exchange.
    """
    if door == "commands":
        return None
    owner = owner_of(event_type)
    if owner is None:
        return None if door in ("public", "direct", None) else \
            f"{event_type} is not an internal message"
    if door not in ("internal", "direct"):
        return f"{event_type} belongs to the {owner} service and came through the {door} door"
    if source != owner:
        sender = source or "an unnamed sender"
        return f"{event_type} belongs to the {owner} service, not to {sender}"
    return None
