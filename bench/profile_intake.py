"""Where a webhook request's time goes inside one gateway process (no HTTP server, no fork).

Run from the repository root::

    .venv/bin/python bench/profile_intake.py [--batches 10] [--cprofile]

The gateway is bootstrapped in this process against the local PostgreSQL and
RabbitMQ (scratch database and namespace, removed at the end), with
Prometheus' multiprocess mode on as under gunicorn. Each request of 1, 100 and
1000 events is sent through Flask's test client, and the stages of the intake
are timed by wrapping the functions the handler calls (nothing in the project
is changed). ``--cprofile`` also prints the hottest functions of the
1000-event requests.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from gateway_intake import Events, Scratch, broker_facts, request_body

TIMES: dict[str, float] = defaultdict(float)  # wall seconds per stage
CPU: dict[str, float] = defaultdict(float)  # this thread's CPU seconds per stage


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - started
            CPU[name] += time.thread_time() - cpu_started

    return wrapper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--batches", type=int, default=10, help="requests per size (max 200)")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--insert-variants", action="store_true",
                        help="also time other ways of recording 1000 ids (same table)")
    parser.add_argument("--single-process-metrics", action="store_true",
                        help="leave Prometheus' multiprocess mode off")
    parser.add_argument("--broker-url", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--postgres-url",
                        default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    batches = max(1, min(args.batches, 200))

    metrics_dir = tempfile.TemporaryDirectory(prefix="kozomol-bench-metrics-")
    if not args.single_process_metrics:
        # Before anything imports prometheus_client's metrics, as `kozomol gateway` does.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir.name
    _, queue_type = broker_facts(args.broker_url, "auto")
    scratch = Scratch(args.postgres_url, args.broker_url)
    gateway = None
    try:
        scratch.create_database()
        from dataclasses import replace

        from kozomol.webhook_client import signed_headers
        from services.gateway import handlers
        from services.gateway.app import create_app
        from services.gateway.domain import intake as domain_intake
        from services.gateway.runtime import bootstrap
        from services.gateway.web import webhooks
        from shared.db.migrations import upgrade
        from shared.events import schemas
        from shared.messaging.publisher import ConfirmingPublisher
        from shared.settings import SERVICES, load_settings, new_webhook_secret

        for service in SERVICES:
            upgrade(scratch.database_url, service, SERVICES)
        secret = new_webhook_secret()
        settings = replace(
            load_settings(), database_url=scratch.database_url, broker_url=args.broker_url,
            webhook_secrets=(secret,), namespace=scratch.namespace, queue_type=queue_type,
            data_dir=scratch.data_dir, log_level="WARNING",
        )
        # The stages, timed where the handler looks them up (module globals / methods).
        webhooks.signature.verify = timed("verify signature", webhooks.signature.verify)
        webhooks.parse_delivery = timed("parse + validate (total)", webhooks.parse_delivery)
        domain_intake.orjson = _TimedOrjson(domain_intake.orjson)
        domain_intake.validation_errors = timed("  marshmallow validation",
                                                schemas.validation_errors)
        handlers.intake.record_new = timed("INSERT ids ON CONFLICT", handlers.intake.record_new)
        intake_class = handlers.intake.Intake
        intake_class.take = timed("intake.take (total)", intake_class.take)
        intake_class.message = timed("  build messages (orjson.dumps)", intake_class.message)
        intake_class._count = staticmethod(timed("  metrics per event", intake_class._count))
        ConfirmingPublisher.publish = timed("  publish + confirms", ConfirmingPublisher.publish)
        webhooks.Response = timed("answer (Response)", webhooks.Response)

        gateway = bootstrap(settings)
        client = create_app(gateway).test_client()
        events = Events(scratch.run_id)

        def post(count: int) -> float:
            body = request_body(events.take(count))
            headers = signed_headers([secret], body)
            started, cpu_started = time.perf_counter(), time.thread_time()
            response = client.post("/webhooks/kundoluk", data=body, headers=headers)
            elapsed = time.perf_counter() - started
            CPU["whole request (test client)"] += time.thread_time() - cpu_started
            assert response.status_code == 202, response.json
            assert response.json["accepted"] == count, response.json
            return elapsed

        for count in (1, 100, 1000):
            post(count)  # connections, first declare
        print(f"queues: {queue_type}; {batches} requests per size; times per request, ms "
              "(and µs per event)\n")
        for count in (1, 100, 1000):
            TIMES.clear()
            CPU.clear()
            profiler = cProfile.Profile() if args.cprofile and count == 1000 else None
            total = 0.0
            for _ in range(batches):
                if profiler:
                    profiler.enable()
                total += post(count)
                if profiler:
                    profiler.disable()
            parts = ("INSERT ids ON CONFLICT", "  build messages (orjson.dumps)",
                     "  metrics per event", "  publish + confirms")
            for table in (TIMES, CPU):
                table["  rest of take (BEGIN/COMMIT, dedup)"] = \
                    table["intake.take (total)"] - sum(table[k] for k in parts)
            TIMES["whole request (test client)"] = total
            print(f"--- {count} event(s) per request: "
                  f"{count * batches / total:,.0f} events/s on one thread")
            print(f"  {'stage':<42} {'wall ms/req':>11} {'wall µs/ev':>10} {'CPU µs/ev':>10}")
            for name, seconds in TIMES.items():
                per_request = 1000 * seconds / batches
                per_event = 1e6 * seconds / batches / count
                cpu = 1e6 * CPU[name] / batches / count
                print(f"  {name:<42} {per_request:11.2f} {per_event:10.1f} {cpu:10.1f}")
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
                print(out.getvalue())
        if args.insert_variants:
            insert_variants(gateway.engine, events, batches)
    finally:
        if gateway is not None:
            gateway.close()
        for problem in scratch.close():
            print(f"clean-up failed: {problem}", file=sys.stderr)
        metrics_dir.cleanup()
    return 0


def insert_variants(engine: Any, events: Events, batches: int) -> None:
    """The id INSERT of a 1000-event batch, as the gateway does it and two other ways."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from services.gateway.adapters.tables import received_events
    from shared.db.inserts import insert_new

    def rows() -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        return [{"event_id": e["id"], "school_id": e["school_id"], "type": e["type"],
                 "received_at": now, "stored_in": "broker"} for e in events.take(1000)]

    unnest = text(
        "INSERT INTO gateway_received_events (event_id, school_id, type, received_at,"
        " stored_in) SELECT u.id, u.school, u.type, :now, 'broker'"
        " FROM unnest(CAST(:ids AS text[]), CAST(:schools AS text[]), CAST(:types AS text[]))"
        " AS u(id, school, type) ON CONFLICT (event_id) DO NOTHING RETURNING event_id")

    def via_unnest(connection: Any, batch: list[dict[str, Any]]) -> set[str]:
        result = connection.execute(unnest, {
            "ids": [r["event_id"] for r in batch], "schools": [r["school_id"] for r in batch],
            "types": [r["type"] for r in batch], "now": batch[0]["received_at"]})
        return set(result.scalars())

    def via_executemany(connection: Any, batch: list[dict[str, Any]]) -> set[str]:
        from sqlalchemy.dialects import postgresql

        statement = (postgresql.insert(received_events)
                     .on_conflict_do_nothing(index_elements=["event_id"])
                     .returning(received_events.c.event_id))
        return set(connection.execute(statement, batch, ).scalars())

    variants: dict[str, Callable[[Any, list[dict[str, Any]]], set[str]]] = {
        "insert_new (the gateway on SQLite)":
            lambda c, b: insert_new(c, received_events, b, received_events.c.event_id),
        "unnest arrays (the gateway on PostgreSQL)": via_unnest,
        "executemany + RETURNING (insertmanyvalues)": via_executemany,
    }
    print("--- recording 1000 new ids in one transaction (incl. COMMIT)")
    print(f"  {'variant':<42} {'wall ms':>9} {'CPU ms':>9}")
    for name, variant in variants.items():
        wall = cpu = 0.0
        for _ in range(batches + 1):
            batch = rows()
            started, cpu_started = time.perf_counter(), time.thread_time()
            with engine.begin() as connection:
                new = variant(connection, batch)
            elapsed, cpu_used = time.perf_counter() - started, time.thread_time() - cpu_started
            assert len(new) == 1000, (name, len(new))
            if _ > 0:  # the first one warms caches
                wall, cpu = wall + elapsed, cpu + cpu_used
        print(f"  {name:<42} {1000 * wall / batches:9.2f} {1000 * cpu / batches:9.2f}")


class _TimedOrjson:
    """orjson as seen by the delivery parser, with ``loads`` timed."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.loads = timed("  orjson.loads", module.loads)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


if __name__ == "__main__":
    sys.exit(main())
