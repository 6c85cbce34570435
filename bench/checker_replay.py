"""The checker on PostgreSQL: a simulated school year replayed through its consumer code.

Feeds the events in batches through the same path the checker's consumer runs
(inbox + folding into the facts tables, one transaction per batch), month by
month, and prints events/s and the cost per event for each month, so the cost
can be seen not to grow with the stored data (target: last month within 2x of
the first). Statistics are refreshed between months (ANALYZE), as autovacuum
does in a running system. Then times a full sweep of the school at the year's end.

    .venv/bin/python bench/checker_replay.py [--parallels 2] [--batch 100]
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections import defaultdict
from datetime import UTC
from typing import Any

import psycopg

from kozomol.simulator.run import SimulationSpec, judged_at, parse_terms, school_events
from services.checker.adapters.tables import inbox
from services.checker.handlers import fold_events, refresh_statistics, sweep
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.messaging.inbox import InboxProcessor
from shared.settings import SERVICES

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parallels", type=int, default=2)
    parser.add_argument("--terms", default="1-4")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    name = f"kozomol_bench_checker_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        run(url, SimulationSpec(seed=1, parallels=args.parallels,
                                terms=parse_terms(args.terms)), args.batch)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, spec: SimulationSpec, batch_size: int) -> None:
    upgrade(url, "checker", SERVICES)
    engine = make_engine(url)
    process = InboxProcessor(engine, inbox, fold_events)
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in school_events(spec):
        by_month[event["occurred_at"][:7]].append(event)
    print(f"school year replay on PostgreSQL: {sum(map(len, by_month.values())):,} events, "
          f"batches of {batch_size}")
    print(f"{'month':<9}{'events':>10}{'events/s':>10}{'µs/event':>10}")
    costs = []
    for month, events in sorted(by_month.items()):
        started = time.perf_counter()
        for start in range(0, len(events), batch_size):
            process([Event.from_envelope(e) for e in events[start:start + batch_size]])
        elapsed = time.perf_counter() - started
        per_event = elapsed / len(events) * 1e6
        if len(events) > 1000:
            costs.append(per_event)
        print(f"{month:<9}{len(events):>10,}{len(events) / elapsed:>10,.0f}{per_event:>10,.0f}")
        # PostgreSQL's autovacuum keeps statistics current in a running system (every
        # minute); a year replayed in minutes outruns it, and with the statistics of an
        # empty table the planner filters a school's rows instead of using the key.
        refresh_statistics(engine)
    print(f"last full month / first full month cost: {costs[-1] / costs[0]:.2f}x (target ≤ 2x)")
    started = time.perf_counter()
    result = sweep(engine, lambda: judged_at(spec))
    print(f"sweep of the school at {judged_at(spec).astimezone(UTC):%Y-%m-%d}: "
          f"{time.perf_counter() - started:.1f} s, {result.findings} findings")
    engine.dispose()


if __name__ == "__main__":
    main()
