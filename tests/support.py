"""Helpers for tests: broker inspection, waiting, sample events."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from kombu import Connection

from shared.events.owners import owner_of
from shared.events.schemas import DATA_SCHEMAS
from shared.messaging.dispatcher import Dispatcher, Handler
from shared.messaging.topology import COMMANDS, SUBSCRIPTIONS, Topology

BROKER_URL = os.environ.get("KOZOMOL_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES_URL = os.environ.get("KOZOMOL_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")


def delete_namespace(name: str) -> None:
    topology = Topology(name, "classic")
    with Connection(BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        for service in SUBSCRIPTIONS:
            for queue in (f"{name}.{service}", f"{name}.{service}.dead"):
                channel.queue_delete(queue)
            channel.exchange_delete(topology.dead_letter_exchange(service).name)
        channel.exchange_delete(topology.events.name)
        channel.exchange_delete(topology.internal.name)
        channel.exchange_delete(topology.commands.name)


def handled_by(service: str, handler: Handler) -> Dispatcher:
    """A dispatcher for ``service``'s queue that gives ``handler`` all it receives (its
    events and each of its commands), as a test's stand-in for the service's own."""
    dispatcher = Dispatcher(service)
    dispatcher.on(SUBSCRIPTIONS[service], handler)
    for command_type in COMMANDS[service]:
        dispatcher.command(command_type, handler)
    return dispatcher


def as_published(envelope: dict[str, Any]) -> dict[str, Any]:
    """A hand-made envelope as its publisher sends it: a service's event names its owner."""
    owner = owner_of(str(envelope["type"]))
    return {**envelope, "source": owner} if owner else envelope


def queue_depth(namespace: str, service: str, *, dead: bool = False) -> int:
    name = f"{namespace}.{service}" + (".dead" if dead else "")
    with Connection(BROKER_URL, connect_timeout=5) as connection:
        _, count, _ = connection.channel().queue_declare(name, passive=True)
        return int(count)


def drain_queue(namespace: str, service: str, *, dead: bool = False,
                idle_seconds: float = 1.0) -> list[Any]:
    """Take every message out of a queue (acking them); returns the kombu messages."""
    name = f"{namespace}.{service}" + (".dead" if dead else "")
    taken: list[Any] = []
    with Connection(BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        deadline = time.monotonic() + idle_seconds
        while time.monotonic() < deadline:
            message = channel.basic_get(name, no_ack=False)
            if message is None:
                time.sleep(0.05)
                continue
            channel.basic_ack(message.delivery_tag)
            taken.append(message)
            deadline = time.monotonic() + idle_seconds
    return taken


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll ``condition`` until it is truthy; fail the test with a clear message if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)


SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "school.calendar": {"academic_year": "2026-2027", "timezone": "Asia/Bishkek",
                        "language_of_instruction": "ru", "weekend": ["sun"],
                        "terms": [{"id": "q1", "kind": "quarter", "number": 1,
                                   "start": "2026-09-01", "end": "2026-10-31"}],
                        "holidays": ["2026-10-01"]},
    "teacher.profile": {"teacher_id": "t_017", "full_name": "Асанова Айгүл Бакытовна"},
    "class.roster": {"class_id": "5a", "academic_year": "2026-2027", "grade": 5,
                     "homeroom_teacher_id": "t_017",
                     "students": [{"student_id": "st_1", "full_name": "Үсөнов Нурлан",
                                   "subgroups": {"eng": "1"}}]},
    "student.profile": {"student_id": "st_1", "full_name": "Үсөнов Нурлан",
                        "birth_date": "2015-03-04",
                        "parents": [{"full_name": "Үсөнова Гүлнара", "relation": "mother",
                                     "phone": "+996700000000"}]},
    "subject.plan": {"class_id": "5a", "subject_id": "math", "subject_name": "Математика",
                     "subgroup": None, "teacher_id": "t_017", "term_id": "q1",
                     "lessons": [{"number": 1, "planned_date": "2026-09-02",
                                  "topic": "Натуральные числа"}]},
    "lesson.recorded": {"lesson_id": "les_1", "class_id": "5a", "subgroup": None,
                        "subject_id": "math", "date": "2026-09-02", "period": 2,
                        "teacher_id": "t_017", "scheduled_teacher_id": "t_017",
                        "is_substitution": False, "topic": "Натуральные числа",
                        "homework": "№ 12"},
    "lesson.deleted": {"lesson_id": "les_1"},
    "attendance.recorded": {"lesson_id": "les_1",
                            "absent": [{"student_id": "st_1", "reason": "illness"}],
                            "late": ["st_2"]},
    "mark.recorded": {"mark_id": "m_1", "student_id": "st_1", "class_id": "5a",
                      "subject_id": "math", "teacher_id": "t_017", "lesson_id": "les_1",
                      "date": "2026-09-02", "value": "5", "work_type": "oral",
                      "kind": "current", "term_id": None},
    "mark.deleted": {"mark_id": "m_1"},
    "exemption.recorded": {"student_id": "st_1", "subject_id": "pe", "from": "2026-09-01",
                           "to": "2026-12-31", "reason": "физкультура: справка"},
    "personal_data.verified": {"class_id": "5a", "term_id": "q1", "verified_by": "t_017"},
    "platform.outage": {"started_at": "2026-09-02T09:00:00+06:00",
                        "ended_at": "2026-09-02T13:00:00+06:00"},
    "journal.visits": {"class_id": "5a", "date": "2026-09-02",
                       "visits": [{"student_id": "st_1", "student_visits": 3,
                                   "parent_visits": 1}]},
}
assert set(SAMPLE_DATA) == set(DATA_SCHEMAS), "every event type needs a sample"


def make_event(event_type: str = "mark.recorded", *, event_id: str | None = None,
               school_id: str = "shg48", **data: Any) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{secrets.token_hex(8)}",
        "type": event_type,
        "school_id": "*" if event_type == "platform.outage" else school_id,
        "occurred_at": "2026-09-02T11:05:13+06:00",
        "data": {**SAMPLE_DATA.get(event_type, {}), **data},
    }


def signed(secret: str, body: bytes, **overrides: str) -> dict[str, str]:
    """Headers of a correctly signed delivery, with any header replaced or dropped ("")."""
    from kozomol.webhook_client import signed_headers

    headers = signed_headers([secret], body)
    for name, value in overrides.items():
        key = name.replace("_", "-")
        if value == "":
            headers.pop(key, None)
        else:
            headers[key] = value
    return headers


def batch_body(events: list[dict[str, Any]]) -> bytes:
    import orjson

    return orjson.dumps({"events": events})


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kozomol_env(**settings: str) -> dict[str, str]:
    """The environment for a ``kozomol`` subprocess: this one's, minus other KOZOMOL_ settings."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")},
            **{f"KOZOMOL_{name.upper()}": value for name, value in settings.items()}}


def class_known_to_gateway(engine: Any, school_id: str, class_id: str) -> None:
    """As if the class's roster had reached the gateway (its remarks sheet then exists)."""
    from datetime import UTC, datetime

    from services.gateway.handlers.classes import apply_roster_events
    from shared.events.envelope import Event

    with engine.begin() as connection:
        apply_roster_events(connection, [Event(
            f"evt_roster_{school_id}_{abs(hash(class_id))}", "class.roster", school_id,
            datetime.now(UTC), {"class_id": class_id, "homeroom_teacher_id": "t1"})])
