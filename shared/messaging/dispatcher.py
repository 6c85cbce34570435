"""One dispatcher per service: commands kept apart from events, and the bindings they need.

- A **command** (``finding.update``, ``print.request``, ...) is addressed to one
  service and has exactly one handler there; registering a second one is a
  programming error, raised at once.
- An **event** has zero or more handlers. A handler subscribes with one or more
  binding keys (topic patterns as RabbitMQ reads them: ``finding.*``, ``#``) and
  is called once per batch with every admitted event any of its keys matches,
  in the batch's order. Handlers run in the order they were registered.

Every handler runs in the batch's transaction, and an error from any of them is
raised: the consumer retries the batch message by message and at last
dead-letters what keeps failing (``shared/messaging/consumer.py``), for
commands and events alike.

The queue's bindings are declared in ``shared/messaging/topology.py``, because
publishers declare the whole topology before their first publish and ``shared/``
imports no service. :func:`binding_drift` compares the two: the services' unit
tests assert there is none, and a consumer refuses to start if there is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from shared import metrics
from shared.events.envelope import Event
from shared.events.owners import admission_refusal

log = logging.getLogger(__name__)

#: A handler reacts to the new messages it is given from a batch, in its transaction.
Handler = Callable[[Connection, list[Event]], None]


class DuplicateCommandHandler(ValueError):
    """A command type was given a second handler."""


class BindingDrift(RuntimeError):
    """What a service handles differs from what its queue is bound to."""


def key_matches(pattern: str, key: str) -> bool:
    """Whether a topic binding key matches a routing key (``*`` one word, ``#`` any number)."""
    return _matches(pattern.split("."), key.split("."))


def _matches(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_matches(rest, words[skip:]) for skip in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _matches(rest, words[1:])


def _covered(key: str, by: str) -> bool:
    """Whether binding ``by`` already routes everything binding ``key`` would."""
    if key == by:
        return False
    if by == "#":
        return True
    return "*" not in key and "#" not in key and key_matches(by, key)


@dataclass
class _Subscription:
    keys: tuple[str, ...]
    handler: Handler
    #: event type -> whether a key matches (a queue carries few types, batch after batch)
    _wanted: dict[str, bool] = field(default_factory=dict)

    def wants(self, event_type: str) -> bool:
        wanted = self._wanted.get(event_type)
        if wanted is None:
            wanted = self._wanted[event_type] = any(key_matches(key, event_type)
                                                    for key in self.keys)
        return wanted


@dataclass
class Dispatcher:
    """A service's handlers: one per command type, any number per event type."""

    service: str
    _commands: dict[str, Handler] = field(default_factory=dict)
    _subscriptions: list[_Subscription] = field(default_factory=list)

    def command(self, command_type: str, handler: Handler) -> None:
        """``handler`` obeys commands of this type (the only one: a second is refused)."""
        if command_type in self._commands:
            raise DuplicateCommandHandler(
                f"{self.service}: the command {command_type} already has a handler")
        self._commands[command_type] = handler

    def on(self, keys: str | Iterable[str], handler: Handler) -> None:
        """``handler`` gets the events matching any of ``keys`` (topic patterns)."""
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        if not keys:
            raise ValueError("an event handler needs at least one binding key")
        self._subscriptions.append(_Subscription(keys, handler))

    @property
    def command_types(self) -> frozenset[str]:
        return frozenset(self._commands)

    @property
    def event_keys(self) -> frozenset[str]:
        """The binding keys the queue needs: every subscribed key not covered by another."""
        keys = {key for subscription in self._subscriptions for key in subscription.keys}
        return frozenset(key for key in keys if not any(_covered(key, by) for by in keys))

    def is_command(self, event: Event) -> bool:
        return event.door == "commands" or event.type in self._commands

    def __call__(self, connection: Connection, events: list[Event]) -> None:
        events = self._admitted(events)
        commands = [event for event in events if self.is_command(event)]
        others = [event for event in events if not self.is_command(event)]
        handled: set[str] = set()
        for subscription in self._subscriptions:
            wanted = [event for event in others if subscription.wants(event.type)]
            if wanted:
                subscription.handler(connection, wanted)
                handled.update(event.id for event in wanted)
        grouped: dict[str, list[Event]] = {}
        for command in commands:
            grouped.setdefault(command.type, []).append(command)
        for command_type, group in grouped.items():
            handler = self._commands.get(command_type)
            if handler is None:
                metrics.EVENTS_IGNORED.labels(self.service, command_type).inc(len(group))
                continue
            handler(connection, group)
        for event in others:
            if event.id not in handled:
                metrics.EVENTS_IGNORED.labels(self.service, event.type).inc()

    def _admitted(self, events: list[Event]) -> list[Event]:
        """The events whose door and source fit their type; the rest are refused.

        A refused event (a service's type through the public door, or from
        another sender) is logged and counted, and has no effect: it is what a
        forged webhook would look like.
        """
        admitted = []
        for event in events:
            reason = admission_refusal(event.type, event.door, event.source)
            if reason is None:
                admitted.append(event)
                continue
            metrics.EVENTS_REFUSED.labels(self.service, str(event.door)).inc()
            log.warning("event refused: wrong door or sender", extra={
                "service": self.service, "event_id": event.id, "event_type": event.type,
                "door": event.door, "source": event.source, "reason": reason})
        return admitted


def binding_drift(dispatcher: Dispatcher, event_keys: Iterable[str],
                  command_types: Iterable[str]) -> str | None:
    """What differs between a dispatcher and its queue's declared bindings (None: nothing)."""
    declared_events, declared_commands = frozenset(event_keys), frozenset(command_types)
    problems = []
    for what, handled, declared in (("events", dispatcher.event_keys, declared_events),
                                    ("commands", dispatcher.command_types, declared_commands)):
        if unbound := sorted(handled - declared):
            problems.append(f"{what} handled but not bound: {', '.join(unbound)}")
        if unhandled := sorted(declared - handled):
            problems.append(f"{what} bound but not handled: {', '.join(unhandled)}")
    if not problems:
        return None
    return (f"the {dispatcher.service} dispatcher and its queue's bindings "
            f"(shared/messaging/topology.py) differ: " + "; ".join(problems))
