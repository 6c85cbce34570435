"""Consumers against the real RabbitMQ and PostgreSQL: crash, redelivery, poison."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, func, select

from services.backup.adapters.journal_store import entries
from services.backup.adapters.tables import inbox, journal
from services.backup.domain.journal import first_break
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import Topology
from shared.service import bootstrap_consumer
from shared.settings import Settings
from tests.support import (
    BROKER_URL,
    drain_queue,
    handled_by,
    make_event,
    queue_depth,
    wait_for,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def publish(settings: Settings, events: list[dict[str, Any]], raw: list[bytes] = ()) -> None:
    topology = Topology(settings.namespace, "quorum" if settings.queue_type == "auto"
                        else settings.queue_type, settings.delivery_limit)
    publisher = ConfirmingPublisher(BROKER_URL, topology, connect_timeout=5, confirm_timeout=10)
    messages = [OutgoingMessage(topology.events.name, e["type"], orjson.dumps(e), e["id"])
                for e in events]
    messages += [OutgoingMessage(topology.events.name, "mark.recorded", body, f"raw{i}")
                 for i, body in enumerate(raw)]
    for start in range(0, len(messages), 500):
        publisher.publish(messages[start:start + 500])
    publisher.close()


def count(settings: Settings, table: Any) -> int:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def backup_settings(production_settings: Settings, migrated: Any) -> Settings:
    return migrated(production_settings)


def start_backup_process(settings: Settings) -> subprocess.Popen[bytes]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")},
        "KOZOMOL_DATABASE_URL": settings.database_url,
        "KOZOMOL_BROKER_URL": BROKER_URL,
        "KOZOMOL_NAMESPACE": settings.namespace,
        "KOZOMOL_WEBHOOK_SECRETS": settings.webhook_secrets[0],
        "KOZOMOL_DATA_DIR": str(settings.data_dir),
        "KOZOMOL_QUEUE_TYPE": settings.queue_type,
        "KOZOMOL_DELIVERY_LIMIT": str(settings.delivery_limit),
        "KOZOMOL_CONSUMER_BATCH": "50",
        "KOZOMOL_PREFETCH": "100",
    }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.data_dir / "backup.log").open("ab")  # a pipe could fill up and block it
    try:
        return subprocess.Popen([sys.executable, "-m", "kozomol", "backup"], env=environment,
                                cwd=ROOT, stdout=log, stderr=log)
    finally:
        log.close()


def test_a_consumer_killed_mid_stream_leaves_nothing_unprocessed_or_doubled(
    backup_settings: Settings,
) -> None:
    events = [make_event(event_id=f"evt_{i:05d}") for i in range(4000)]
    first = start_backup_process(backup_settings)
    try:
        publish(backup_settings, events)
        wait_for(lambda: count(backup_settings, journal) >= 300, timeout=60)
        first.send_signal(signal.SIGKILL)  # no chance to ack or to finish its batch
        first.wait(10)
        processed_at_kill = count(backup_settings, journal)
        assert processed_at_kill < len(events), "the consumer finished before it was killed"
    finally:
        if first.poll() is None:
            first.kill()
    second = start_backup_process(backup_settings)
    try:
        wait_for(lambda: count(backup_settings, journal) >= len(events), timeout=120)
        wait_for(lambda: queue_depth(backup_settings.namespace, "backup") == 0, timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert second.returncode == 0, (backup_settings.data_dir / "backup.log").read_text()
    engine = make_engine(backup_settings.database_url)
    with engine.connect() as connection:
        ids = connection.execute(select(journal.c.event_id)).scalars().all()
        assert first_break(entries(connection)) is None  # the hash chain has no fork or gap
    engine.dispose()
    assert len(ids) == len(events)
    assert set(ids) == {e["id"] for e in events}
    assert count(backup_settings, inbox) == len(events)


@pytest.fixture(params=["quorum", "classic"])
def poison_settings(request: pytest.FixtureRequest, backup_settings: Settings) -> Settings:
    return replace(backup_settings, queue_type=request.param, delivery_limit=3)


@pytest.fixture
def poisoned_consumer(poison_settings: Settings) -> Iterator[tuple[Any, list[str]]]:
    attempts: list[str] = []

    def record(connection: Connection, events: list[Event]) -> None:
        for event in events:
            if event.data.get("poison"):
                attempts.append(event.id)
                raise RuntimeError("this event always breaks its handler")
        connection.execute(journal.insert(), [
            {"seq": i, "event_id": e.id, "school_id": e.school_id, "type": e.type,
             "occurred_at": e.occurred_at, "recorded_at": e.occurred_at, "body": b"",
             "prev_hash": "", "hash": ""}
            for i, e in enumerate(events, start=count_rows(connection) + 1)])

    service = bootstrap_consumer(poison_settings, "backup", inbox,
                                 handled_by("backup", record))
    service.start()
    assert service.consumer.ready.wait(15)
    yield service, attempts
    service.stop()


def count_rows(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(journal)).scalar_one())


def test_a_poison_message_is_dead_lettered_after_the_delivery_limit(
    poison_settings: Settings, poisoned_consumer: tuple[Any, list[str]]
) -> None:
    service, attempts = poisoned_consumer
    healthy_before = [make_event() for _ in range(20)]
    poison = make_event(event_id="evt_poison", poison=True)
    healthy_after = [make_event() for _ in range(20)]
    publish(poison_settings, [*healthy_before, poison, *healthy_after], raw=[b"not json at all"])

    namespace = poison_settings.namespace
    wait_for(lambda: queue_depth(namespace, "backup", dead=True) == 2, timeout=60)
    wait_for(lambda: count(poison_settings, journal) == 40, timeout=30)
    dead = drain_queue(namespace, "backup", dead=True)
    assert sorted(m.properties["message_id"] for m in dead) == ["evt_poison", "raw0"]
    # It was tried as often as the limit allows (batch attempts included), then set aside.
    assert poison_settings.delivery_limit <= attempts.count("evt_poison") \
        <= 2 * (poison_settings.delivery_limit + 1)
    assert queue_depth(namespace, "backup") == 0
    # ...and the consumer keeps going.
    later = make_event()
    publish(poison_settings, [later])
    wait_for(lambda: count(poison_settings, journal) == 41, timeout=30)
    assert service.thread is not None and service.thread.is_alive()
