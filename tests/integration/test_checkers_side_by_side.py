"""Three checker processes on one queue (RabbitMQ, PostgreSQL) find exactly what one
checker finds (issue 20): the same events, shuffled and partly duplicated, folded and
swept by three processes at once, with their sweepers racing (every 0.3 s, full sweeps
every 3 s) while the events come in."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from amqp.exceptions import NotFound
from kombu import Connection
from sqlalchemy import Engine, func, select

from kozomol.simulator.delivery import arrange
from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, school_events
from services.checker.adapters.findings_store import DESCRIPTION
from services.checker.adapters.tables import deadlines, dirty_schools, findings, inbox
from services.checker.handlers import sweep
from services.checker.main import bootstrap
from shared.db.engine import make_engine
from shared.settings import Settings
from tests.integration.test_checker_rabbitmq import publish
from tests.support import BROKER_URL, delete_namespace, kozomol_env, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
#: Events from the past are folded as if live: recording a school as catching up would
#: itself make concurrent batches of a school wait for each other, hiding what is tested.
NEVER_LATE = "1e9"
SPEC = SimulationSpec(seed=7, schools=3, parallels=1, grades=(4, 6),
                      rates=FaultRates.default(5.0))


def start_checker(settings: Settings, number: int) -> subprocess.Popen[bytes]:
    environment = kozomol_env(
        database_url=settings.database_url, broker_url=BROKER_URL,
        namespace=settings.namespace, webhook_secrets=settings.webhook_secrets[0],
        data_dir=str(settings.data_dir), queue_type=settings.queue_type,
        delivery_limit=str(settings.delivery_limit), sweep_interval="0.3",
        full_sweep_interval="3", settle_window="0", settle_lag=NEVER_LATE,
        outbox_relay_interval="0.2",
        consumer_batch="50")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / f"checker{number}.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "kozomol", "checker"], env=environment,
                                cwd=ROOT, stdout=log, stderr=log)


def corrections(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks entered again and again: six versions of each of 300 marks, the newest one
    the original value, sent newest first and one mark's versions together. The broker
    hands consecutive messages to different checkers, so versions of one mark are folded
    by several checkers at once; a lost update would leave an older, invalid value."""
    marks = [e for e in events if e["type"] == "mark.recorded"
             and e["data"]["kind"] == "current"][:300]
    out = []
    for mark in marks:
        for version in range(6, 0, -1):
            moment = datetime.fromisoformat(mark["occurred_at"]) + timedelta(seconds=version)
            value = mark["data"]["value"] if version == 6 else ("9", "1")[version % 2]
            out.append({**mark, "id": f"{mark['id']}-v{version}",
                        "occurred_at": moment.isoformat(),
                        "data": {**mark["data"], "value": value}})
    return out


def consumers(settings: Settings) -> int:
    with Connection(BROKER_URL, connect_timeout=5) as connection:
        try:
            _, _, count = connection.channel().queue_declare(f"{settings.namespace}.checker",
                                                             passive=True)
        except NotFound:  # no checker has declared it yet
            return 0
        return int(count)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def described_findings(engine: Engine) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(school, finding key) -> status and description, for the findings that hold."""
    with engine.connect() as connection:
        rows = connection.execute(select(findings).where(findings.c.status == "open"))
        return {(row.school_id, row.finding_key):
                (row.status, *(repr(row._mapping[name]) for name in DESCRIPTION))
                for row in rows}


@pytest.fixture
def reference_settings(production_settings: Settings, pg_url: str,
                       migrated: Any) -> Iterator[Settings]:
    """A second database and broker namespace, for the one checker to compare with."""
    import secrets

    import psycopg

    from tests.support import POSTGRES_URL

    name = f"kozomol_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    namespace = f"test{secrets.token_hex(4)}"
    settings = replace(production_settings, database_url=POSTGRES_URL.rsplit("/", 1)[0]
                       + "/" + name, namespace=namespace, sweep_interval=3600,
                       settle_window=0, settle_lag=float(NEVER_LATE),
                       data_dir=production_settings.data_dir / "reference")
    try:
        yield migrated(settings)
    finally:
        delete_namespace(namespace)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_three_checkers_side_by_side_find_exactly_what_one_checker_finds(
        production_settings: Settings, migrated: Any, reference_settings: Settings) -> None:
    events = list(arrange(school_events(SPEC), seed=7, shuffle_window=2000,
                          duplicate_share=0.1))
    events += corrections(events)
    unique = len({event["id"] for event in events})
    schools = {event["school_id"] for event in events}
    assert len(schools) == 3

    # One checker: every event folded, then one sweep.
    single = bootstrap(reference_settings)
    single.start()
    try:
        assert single.consumer.ready.wait(15)
        publish(reference_settings, events)
        wait_for(lambda: count(single.engine, inbox) == unique, timeout=240)
        assert sweep(single.engine, lambda: datetime.now(UTC)).schools == 3
        expected = described_findings(single.engine)
    finally:
        single.stop()

    # Three checkers, sweeping all along.
    settings = migrated(production_settings)
    engine = make_engine(settings.database_url)
    processes = [start_checker(settings, number) for number in range(3)]
    try:
        wait_for(lambda: consumers(settings) == 3, timeout=60)
        publish(settings, events)
        wait_for(lambda: count(engine, inbox) == unique, timeout=240)
        # Quiet: nothing left to judge, every school swept (its deadline kept).
        wait_for(lambda: count(engine, dirty_schools) == 0 and count(engine, deadlines) == 3,
                 timeout=120)
        time.sleep(4)  # a full sweep of every school by someone after the last event
        assert count(engine, dirty_schools) == 0
        found = described_findings(engine)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)
        engine.dispose()
    logs = "".join((settings.data_dir / f"checker{n}.log").read_text() for n in range(3))
    assert "Traceback" not in logs
    assert len(expected) > 50
    assert found == expected
