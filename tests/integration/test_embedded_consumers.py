"""The consumer loop on the embedded default's in-process broker and SQLite."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, func, select

from services.backup.adapters.tables import inbox, journal
from shared.events.envelope import Event
from shared.messaging.publisher import MemoryPublisher, OutgoingMessage
from shared.service import bootstrap_consumer, topology_for
from shared.settings import Settings
from tests.support import handled_by, make_event, wait_for


@pytest.fixture
def settings(embedded_settings: Settings, migrated: Any) -> Settings:
    return migrated(embedded_settings)


def test_events_redelivered_are_processed_once_and_poison_is_set_aside(
    settings: Settings,
) -> None:
    processed: list[str] = []

    def handle(connection: Connection, events: list[Event]) -> None:
        for event in events:
            if event.data.get("poison"):
                raise RuntimeError("always fails")
        processed.extend(event.id for event in events)

    service = bootstrap_consumer(settings, "backup", inbox, handled_by("backup", handle))
    service.start()
    assert service.consumer.ready.wait(10)
    topology = topology_for(settings).resolved(None)
    publisher = MemoryPublisher("memory://", topology)
    events = [make_event() for _ in range(30)]
    poison = make_event(poison=True)
    messages = [OutgoingMessage(topology.events.name, e["type"], orjson.dumps(e), e["id"])
                for e in [*events, events[0], poison, events[1]]]
    publisher.publish(messages)
    wait_for(lambda: len(processed) >= 30, timeout=20)

    def dead_letters() -> list[str]:
        from kombu import Connection as BrokerConnection

        with BrokerConnection("memory://") as connection:
            queue = connection.SimpleQueue(topology.dead_letter_queue("backup").name)
            found = []
            while queue.qsize():
                message = queue.get(timeout=1)
                found.append(message.properties["message_id"])
                message.ack()
            queue.close()
            return found

    assert wait_for(dead_letters, timeout=20) == [poison["id"]]
    service.stop()
    assert sorted(processed) == sorted(e["id"] for e in events)
    with service.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(inbox)).scalar_one() == 30
    publisher.close()


def test_the_backup_service_keeps_a_chained_journal(settings: Settings) -> None:
    from services.backup.adapters.journal_store import entries
    from services.backup.domain.journal import first_break
    from services.backup.main import bootstrap

    service = bootstrap(settings)
    service.start()
    assert service.consumer.ready.wait(10)
    topology = topology_for(settings).resolved(None)
    publisher = MemoryPublisher("memory://", topology)
    events = [make_event(), make_event("homework.checked"), make_event("lesson.recorded")]
    publisher.publish([OutgoingMessage(topology.events.name, e["type"], orjson.dumps(e), e["id"])
                       for e in events])

    def journal_count() -> int:
        with service.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(journal)).scalar_one())

    wait_for(lambda: journal_count() == 3, timeout=20)
    with service.engine.connect() as connection:
        stored = list(entries(connection))
    service.stop()
    publisher.close()
    assert [orjson.loads(body)["id"] for _, body, _, _ in stored] == [e["id"] for e in events]
    assert first_break(stored) is None


def test_stopping_serve_first_lets_every_accepted_event_be_consumed(
    embedded_settings: Settings,
) -> None:
    """The in-process broker is memory only: a graceful stop drains it before it ends."""
    import httpx

    from kozomol.embedded import EmbeddedKozomol
    from kozomol.webhook_client import post_events

    kozomol = EmbeddedKozomol(embedded_settings, host="127.0.0.1", port=0)
    kozomol.start()
    assert kozomol.wait_ready(10)
    events = [make_event() for _ in range(2000)]
    with httpx.Client(timeout=30) as client:
        for start in range(0, len(events), 500):
            response = post_events(client, f"{kozomol.url}/webhooks/kundoluk",
                                   embedded_settings.webhook_secrets, events[start:start + 500])
            assert response.status_code == 202
    kozomol.stop()  # at once: most events are still queued in memory
    backup = next(c for c in kozomol.consumers if c.name == "backup")
    with backup.engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(journal)).scalar_one()
    assert stored == len(events)
