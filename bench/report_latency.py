"""How fast the monitoring reports answer for a large school with a year of data.

Simulates a school of about 1,500 students (11 grades × 5 parallel classes) for
the whole year, folds its events into the checker's facts on PostgreSQL, sweeps
once (which also stores the per-lesson statistics the reports sum), then times
every report kind two ways:

- checker: ``make_report`` alone (what the checker spends per request);
- API: ``POST /api/v1/reports`` through the gateway until the report is in the
  answer: gateway → RabbitMQ command → checker → outbox → RabbitMQ → the
  gateway's read model → answer. Target: within 1 s.

    .venv/bin/python bench/report_latency.py [--parallels 5] [--repeat 5] [--keep]
    .venv/bin/python bench/report_latency.py --database URL   # reuse a kept database

Needs the machine's PostgreSQL and RabbitMQ; creates its own database and broker
namespace and removes both.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select

from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.adapters import facts_store
from services.checker.adapters.tables import lesson_stats
from services.checker.handlers import refresh_statistics, sweep
from services.checker.reporting import make_report
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES, Settings

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
BATCH = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parallels", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--database", help="a database kept by an earlier --keep run")
    args = parser.parse_args()
    spec = SimulationSpec(seed=1, parallels=args.parallels, terms=(1, 2, 3, 4))
    namespace = f"bench{secrets.token_hex(4)}"
    if args.database:
        try:
            measure(make_engine(args.database), args.database, namespace, judged_at(spec),
                    args.repeat)
        finally:
            _delete_namespace(namespace)
        return
    name = f"kozomol_bench_reports_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        run(url, namespace, spec, args.repeat)
    finally:
        if args.keep:
            print(f"kept: --database {url}")
        else:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _delete_namespace(namespace)


def run(url: str, namespace: str, spec: SimulationSpec, repeat: int) -> None:
    for service in SERVICES:
        upgrade(url, service, SERVICES)
    engine = make_engine(url)
    now = judged_at(spec)
    print(f"simulating and folding a school year (seed {spec.seed}, {spec.parallels} "
          f"classes per grade) into the checker's facts on PostgreSQL …", flush=True)
    started, count, students, batch = time.perf_counter(), 0, 0, []
    for raw in school_events(spec):
        if raw["type"] == "class.roster":
            students += len(raw["data"]["students"])
        batch.append(Event(raw["id"], raw["type"], raw["school_id"],
                           datetime.fromisoformat(raw["occurred_at"]), raw["data"]))
        if len(batch) == BATCH:
            count += _fold(engine, batch)
            if count % 20_000 == 0:  # as the checker does: ANALYZE while the facts grow
                refresh_statistics(engine, only_if_stale=True)
            if count % 100_000 == 0:
                print(f"  {count:>9,} events  {time.perf_counter() - started:6.0f} s", flush=True)
    count += _fold(engine, batch)
    refresh_statistics(engine)
    print(f"  {count:,} events folded in {time.perf_counter() - started:.0f} s; "
          f"{students:,} students (rosters may repeat a class when it changes)")
    started = time.perf_counter()
    result = sweep(engine, lambda: now)
    with engine.connect() as connection:
        lessons = connection.execute(select(func.count()).select_from(lesson_stats)).scalar_one()
    print(f"sweep at {now:%Y-%m-%d}: {time.perf_counter() - started:.1f} s, "
          f"{result.findings:,} findings, {lessons:,} lessons in the statistics\n")
    measure(engine, url, namespace, now, repeat)


def measure(engine: Any, url: str, namespace: str, now: datetime, repeat: int) -> None:

    with engine.connect() as connection:
        class_id = sorted(connection.execute(
            select(lesson_stats.c.class_id).distinct()).scalars())[-1]
        teacher_id = connection.execute(select(lesson_stats.c.teacher_id).limit(1)).scalar_one()
    year_from = (now - timedelta(days=300)).date().isoformat()
    cases: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
        ("fill rate, last two weeks", "fill_rate", {}, None),
        ("fill rate, whole year", "fill_rate", {"date_from": year_from}, None),
        ("fill rate, two weeks, with lessons", "fill_rate", {"lessons": True}, None),
        ("fill rate, year, with lessons", "fill_rate", {"date_from": year_from,
                                                        "lessons": True}, None),
        ("fill rate, year, one teacher", "fill_rate", {"date_from": year_from},
         {"role": "teacher", "teacher_id": teacher_id}),
        (f"quarter analysis, class {class_id}", "quarter_analysis", {"class_id": class_id},
         None),
        ("program completion, school", "program_completion", {}, None),
        ("teacher summary, quarter", "teacher_summary", {}, None),
        ("academic results by class, Q4", "academic_results", {"term_id": _term(now, 4)}, None),
        ("academic results by subject, year", "academic_results",
         {"term_id": _term(now, 0), "by": "subject"}, None),
        ("academic results by teacher, Q4", "academic_results",
         {"term_id": _term(now, 4), "by": "teacher"}, None),
        ("academic results by parallel, Q4", "academic_results",
         {"term_id": _term(now, 4), "by": "parallel"}, None),
        ("academic results, current marks", "academic_results",
         {"term_id": _term(now, 4), "basis": "current"}, None),
        ("academic results, one teacher", "academic_results", {"term_id": _term(now, 4)},
         {"role": "teacher", "teacher_id": teacher_id}),
        ("marks objectivity, Q4", "marks_objectivity", {"term_id": _term(now, 4)}, None),
    ]
    rows = []
    for label, kind, parameters, scope in cases:
        times, size = [], 0
        for _ in range(repeat):
            began = time.perf_counter()
            with engine.connect() as connection:
                report = make_report(connection, "sch0001", kind, dict(parameters),
                                     scope=scope, now=now)
            times.append(time.perf_counter() - began)
            size = sum(len(table.rows) for table in report.tables)
        rows.append([label, size, times])
    api = _through_the_api(url, namespace, now, cases, repeat)
    print(f"{'report':<34} {'rows':>6} {'checker median':>15} {'max':>7} "
          f"{'API median':>11} {'max':>7}")
    for (label, size, times), api_times in zip(rows, api, strict=True):
        print(f"{label:<34} {size:>6} {_ms(statistics.median(times)):>15} "
              f"{_ms(max(times)):>7} {_ms(statistics.median(api_times)):>11} "
              f"{_ms(max(api_times)):>7}")
    slowest = max(max(times) for times in api)
    print(f"\nslowest API answer: {_ms(slowest)} — target 1 s: "
          f"{'met' if slowest <= 1.0 else 'MISSED'}")


def _term(now: datetime, quarter: int) -> str:
    """The simulated year's term ids: quarter 1-4, or 0 for the year."""
    year = now.year - 1 if now.month < 8 else now.year
    return f"{year}-{year + 1}-" + (f"q{quarter}" if quarter else "y")


def _fold(engine: Any, batch: list[Event]) -> int:
    if not batch:
        return 0
    with engine.begin() as connection:
        facts_store.ingest(connection, batch)
    done = len(batch)
    batch.clear()
    return done


def _through_the_api(url: str, namespace: str, now: datetime,
                     cases: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]],
                     repeat: int) -> list[list[float]]:
    from services.checker.main import bootstrap as checker_service
    from services.gateway.adapters.tokens import create_token
    from services.gateway.app import create_app
    from services.gateway.consumer import bootstrap_read_model
    from services.gateway.domain.access import Role
    from services.gateway.runtime import bootstrap as gateway_service

    folder = Path(tempfile.mkdtemp(prefix="kozomol-bench-"))
    settings = Settings(data_dir=folder, database_url=url, service_database_urls={},
                        broker_url=BROKER_URL, webhook_secrets=(), namespace=namespace,
                        sweep_interval=3600, full_sweep_interval=3600 * 24)
    checker = checker_service(settings, clock=lambda: now)
    read_model = bootstrap_read_model(settings)
    gateway = gateway_service(settings)
    client = create_app(gateway).test_client()
    with gateway.engine.begin() as connection:
        tokens: dict[str | None, str] = {
            None: create_token(connection, Role.DEPUTY, "sch0001").token}
        for _, _, _, scope in cases:
            if scope is not None:
                tokens[scope["teacher_id"]] = create_token(
                    connection, Role.TEACHER, "sch0001", teacher_id=scope["teacher_id"]).token
    checker.start()
    read_model.start()
    try:
        _ready(checker.consumer.ready.wait, read_model.consumer.ready.wait)
        _settle(checker.engine)
        results = []
        for _, kind, parameters, scope in cases:
            token = tokens[scope["teacher_id"] if scope else None]
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                answer = client.post("/api/v1/reports?wait=30",
                                     headers={"Authorization": f"Bearer {token}"},
                                     json={"kind": kind, "parameters": parameters})
                times.append(time.perf_counter() - began)
                if answer.status_code != 200 or answer.json["status"] != "ready":
                    raise SystemExit(f"{kind}: {answer.status_code} {answer.json}")
            results.append(times)
        return results
    finally:
        read_model.stop()
        checker.stop()
        gateway.close()


def _settle(engine: Any) -> None:
    """Let the sweep's finding events reach the gateway first (they are queued ahead)."""
    from services.checker.adapters.tables import findings, outbox
    from services.gateway.adapters.tables import findings_view

    with engine.connect() as connection:
        expected = connection.execute(select(func.count()).select_from(findings)).scalar_one()
    print(f"waiting for the sweep's {expected:,} findings to reach the gateway's read model …",
          flush=True)
    while True:
        with engine.connect() as connection:
            queued = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
            shown = connection.execute(
                select(func.count()).select_from(findings_view)).scalar_one()
        if not queued and shown >= expected:
            return
        time.sleep(0.5)


def _ready(*waits: Callable[[float], bool]) -> None:
    if not all(wait(30) for wait in waits):
        raise SystemExit("the services did not connect to RabbitMQ")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _delete_namespace(namespace: str) -> None:
    from kombu import Connection

    from shared.messaging.topology import SUBSCRIPTIONS, Topology

    topology = Topology(namespace)
    with Connection(BROKER_URL) as connection:
        channel = connection.channel()
        for service in SUBSCRIPTIONS:
            for queue in (topology.queue(service), topology.dead_letter_queue(service)):
                queue(channel).delete()
            topology.dead_letter_exchange(service)(channel).delete()
        for exchange in (topology.events, topology.internal, topology.commands):
            exchange(channel).delete()


if __name__ == "__main__":
    main()
