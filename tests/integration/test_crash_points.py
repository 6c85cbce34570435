"""Each crash point of reliability.md, crashed 100 times in a loop: nothing lost, nothing doubled.

The seams are ``shared/messaging/crash_points.py``: armed, they raise
``SimulatedCrash`` exactly where a process could die. A crashed relay's
transaction rolls back (as a dead process's would); a crashed consumer's
connection is dropped, so the broker re-delivers what it had not acked. Real
RabbitMQ (quorum queues) and PostgreSQL; the consumer is the backup service
(its journal record is a hash chain, so a doubled or missing entry shows).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from services.backup.adapters.journal_store import entries
from services.backup.adapters.tables import inbox as backup_inbox
from services.backup.adapters.tables import journal
from services.backup.domain.journal import first_break
from services.backup.main import bootstrap as bootstrap_backup
from services.gateway.adapters.tables import outbox
from shared.db.engine import make_engine
from shared.messaging import crash_points
from shared.messaging.outbox import OutboxRelay, add_to_outbox
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import Topology
from shared.service import ConsumerService
from shared.settings import Settings
from tests.support import BROKER_URL, drain_queue, make_event, queue_depth, wait_for

pytestmark = pytest.mark.integration
CRASHES = 100


@pytest.fixture
def settings(production_settings: Settings, migrated: Any) -> Iterator[Settings]:
    yield replace(migrated(production_settings), consumer_batch=10, prefetch=20)
    crash_points.disarm()


def topology(settings: Settings) -> Topology:
    return Topology(settings.namespace, "quorum", settings.delivery_limit)


def table_ids(settings: Settings, column: Any) -> list[str]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(column)).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize("point", [crash_points.AFTER_COMMIT_BEFORE_PUBLISH,
                                   crash_points.AFTER_PUBLISH_BEFORE_MARKING_SENT])
def test_the_relay_crashed_100_times_loses_nothing(settings: Settings, point: str) -> None:
    engine = make_engine(settings.database_url)
    publisher = ConfirmingPublisher(BROKER_URL, topology(settings), connect_timeout=5,
                                    confirm_timeout=10)
    publisher.check()  # the topology exists before anything is published
    relay = OutboxRelay(engine, outbox, lambda: publisher, topology(settings).events.name)
    events = [make_event() for _ in range(CRASHES)]
    try:
        for event in events:
            with engine.begin() as connection:  # committed with "its data"
                add_to_outbox(connection, outbox, [event], datetime.now(UTC))
            crash_points.arm(point)
            with pytest.raises(crash_points.SimulatedCrash):
                relay.drain_once()
        crash_points.disarm()
        assert relay.depth() == CRASHES  # every crash rolled back: the rows are still there
        relay.drain()
        assert relay.depth() == 0
    finally:
        publisher.close()
        engine.dispose()
    delivered = [orjson.loads(m.body)["id"] for m in drain_queue(settings.namespace, "backup")]
    assert set(delivered) == {e["id"] for e in events}  # nothing lost
    if point == crash_points.AFTER_COMMIT_BEFORE_PUBLISH:
        assert len(delivered) == CRASHES  # nothing went out before the crashes
    else:
        # Each crash re-sends what was confirmed but not marked: the 1st event 101 times.
        assert len(delivered) == CRASHES * (CRASHES + 1) // 2 + CRASHES


def run_until_crash(service: ConsumerService, timeout: float = 30) -> bool:
    """Start the consumer; True when it crashed at the armed point within ``timeout``."""
    crashed = threading.Event()

    def consume() -> None:
        try:
            service.consumer.run_until_stopped()
        except crash_points.SimulatedCrash:
            crashed.set()

    service.thread = threading.Thread(target=consume, name="crashing-consumer", daemon=True)
    service.thread.start()
    for companion in service.companions:
        companion.start()
    crashed.wait(timeout)
    # The dead process's connection goes away: the broker re-delivers its unacked deliveries.
    with contextlib.suppress(Exception):
        service.consumer.connection.collect()
    service.stop()  # its companions (outbox relays) die with it
    return crashed.is_set()


def test_a_consumer_crashed_100_times_after_commit_before_ack_applies_each_event_once(
    settings: Settings,
) -> None:
    events = [make_event() for _ in range(1500)]
    publisher = ConfirmingPublisher(BROKER_URL, topology(settings), connect_timeout=5,
                                    confirm_timeout=10)
    publisher.publish([OutgoingMessage(topology(settings).events.name, e["type"],
                                       orjson.dumps(e), e["id"]) for e in events])
    publisher.close()
    for attempt in range(CRASHES):
        crash_points.arm(crash_points.AFTER_COMMIT_BEFORE_ACK)
        assert run_until_crash(bootstrap_backup(settings, scheduler=False)), \
            f"crash {attempt + 1} did not happen"
    crash_points.disarm()
    processed_before_the_end = len(table_ids(settings, journal.c.event_id))
    assert processed_before_the_end >= CRASHES * settings.consumer_batch // 2
    assert queue_depth(settings.namespace, "backup") > 0  # re-delivered, not acked
    final = bootstrap_backup(settings, scheduler=False)
    final.start()
    try:
        wait_for(lambda: len(table_ids(settings, journal.c.event_id)) >= len(events), timeout=120)
        wait_for(lambda: queue_depth(settings.namespace, "backup") == 0, timeout=60)
    finally:
        final.stop()
    ids = table_ids(settings, journal.c.event_id)
    assert len(ids) == len(set(ids)) == len(events)  # none doubled
    assert set(ids) == {e["id"] for e in events}  # none lost
    assert len(table_ids(settings, backup_inbox.c.event_id)) == len(events)
    # A consumer that dies holding deliveries spends their delivery count (the quorum
    # queue counts returns from dead consumers): 100 deaths in a row at the head of the
    # queue dead-letter some of them. Each was applied before (the crash came after the
    # commit), so a dead letter here is never a lost event; docs/operations.md.
    dead = [m.properties["message_id"] for m in
            drain_queue(settings.namespace, "backup", dead=True)]
    assert set(dead) <= set(ids)
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            assert first_break(entries(connection)) is None
            assert connection.execute(select(func.count()).select_from(journal)).scalar_one() \
                == len(events)
    finally:
        engine.dispose()
