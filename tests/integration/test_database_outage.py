"""A consumer's database away for 5 s and 60 s while events flow: nothing dead-lettered.

Issue 19: with the database away, every redelivery counted towards the quorum
queue's delivery limit and good events became dead letters. The backup service
runs as a process of its own against a PostgreSQL database reached through a
proxy this test cuts (the shared server is never stopped); events are
published at a steady rate before, during and after the cut. The delivery
limit is 3, so a consumer that requeued on each failed attempt would lose
events within a second of the cut.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from services.backup.adapters.journal_store import entries
from services.backup.adapters.tables import inbox, journal
from services.backup.domain.journal import first_break
from shared.db.engine import make_engine
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import Topology
from shared.settings import Settings
from tests.cut_proxy import CutProxy
from tests.support import BROKER_URL, make_event, queue_depth, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
RATE = 100  # events per second, in batches of 10


def count(url: str, table: Any) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def start_backup(settings: Settings, database_url: str) -> subprocess.Popen[bytes]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")},
        "KOZOMOL_DATABASE_URL": database_url,
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
    log = (settings.data_dir / "backup.log").open("ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "kozomol", "backup"], env=environment,
                                cwd=ROOT, stdout=log, stderr=log)
    finally:
        log.close()


class SteadyLoad(threading.Thread):
    """Publishes ``RATE`` events a second to the events exchange until stopped."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.topology = Topology(settings.namespace, "quorum", settings.delivery_limit)
        self.sent: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        publisher = ConfirmingPublisher(BROKER_URL, self.topology, connect_timeout=5,
                                        confirm_timeout=10)
        try:
            started = time.monotonic()
            while not self.stop.is_set():
                events = [make_event() for _ in range(10)]
                publisher.publish([OutgoingMessage(self.topology.events.name, e["type"],
                                                   orjson.dumps(e), e["id"]) for e in events])
                self.sent.extend(e["id"] for e in events)
                due = started + len(self.sent) / RATE
                self.stop.wait(max(0.0, due - time.monotonic()))
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            publisher.close()


@pytest.mark.parametrize("outage_seconds", [5, 60])
def test_a_database_outage_under_load_loses_nothing_and_dead_letters_nothing(
    production_settings: Settings, migrated: Any, outage_seconds: int
) -> None:
    settings = migrated(production_settings)
    direct = make_url(settings.database_url)
    with CutProxy(direct.host or "127.0.0.1", direct.port or 5432) as proxy:
        through_proxy = direct.set(host="127.0.0.1", port=proxy.port)
        process = start_backup(settings, through_proxy.render_as_string(hide_password=False))
        load = SteadyLoad(settings)
        try:
            load.start()
            wait_for(lambda: count(settings.database_url, journal) >= 2 * RATE, timeout=60)
            proxy.cut()
            cut_at = len(load.sent)
            time.sleep(1)
            at_cut = count(settings.database_url, journal)
            time.sleep(outage_seconds - 1)
            during = count(settings.database_url, journal)
            proxy.restore()
            time.sleep(3)
            load.stop.set()
            load.join(30)
            assert load.error is None, repr(load.error)
            assert len(load.sent) > cut_at + RATE, "events did not flow during the outage"
            wait_for(lambda: count(settings.database_url, journal) >= len(load.sent),
                     timeout=120)
            wait_for(lambda: queue_depth(settings.namespace, "backup") == 0, timeout=30)
            assert process.poll() is None, "the consumer died during the outage"
        finally:
            load.stop.set()
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    log = (settings.data_dir / "backup.log").read_text()
    assert "holding deliveries" in log, "the outage was never noticed"
    assert "dependency back" in log
    # The database was really away: nothing was written while it was cut.
    assert during == at_cut
    assert queue_depth(settings.namespace, "backup", dead=True) == 0
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            ids = connection.execute(select(journal.c.event_id)).scalars().all()
            assert first_break(entries(connection)) is None
    finally:
        engine.dispose()
    assert len(ids) == len(set(ids)) == len(load.sent)  # none doubled
    assert set(ids) == set(load.sent)  # none lost
    assert count(settings.database_url, inbox) == len(load.sent)

