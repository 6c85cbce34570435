"""What a deadline costs the checker for one school on PostgreSQL: judged whole at the
moment, or judged ahead and only reconciled at the moment.

Folds a simulated school's history up to a school day's evening into a fresh
database, sweeps it (which writes its next deadline, usually that day's end),
then times

- judging ahead (``prepare_ahead``: load the facts, evaluate at the coming moment);
- the tick at the moment with the findings judged ahead (``sweep(due=True)``);
- for comparison, the same tick when nothing was judged ahead (a whole-school
  evaluation at the moment), on a copy of the database.

    .venv/bin/python bench/checker_deadlines.py --parallels 5   # ~1,560 students
"""

from __future__ import annotations

import argparse
import secrets
import time
from datetime import datetime, timedelta

import psycopg

from kozomol.simulator.run import SimulationSpec, school_events
from services.checker.adapters import deadlines_store
from services.checker.adapters.tables import inbox
from services.checker.handlers import fold_events, prepare_ahead, sweep
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.messaging.inbox import InboxProcessor
from shared.settings import SERVICES

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parallels", type=int, default=5)
    parser.add_argument("--day", type=int, default=30, help="the quarter's n-th school day")
    args = parser.parse_args()
    name = f"kozomol_bench_deadlines_{secrets.token_hex(4)}"
    copy = name + "_whole"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        run(f"{base}/{name}", f"{base}/{copy}", name, copy, parallels=args.parallels,
            day=args.day)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            for database in (name, copy):
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(url: str, copy_url: str, name: str, copy: str, *, parallels: int, day: int) -> None:
    spec = SimulationSpec(seed=1, parallels=parallels, terms=(1,))
    events = list(school_events(spec))
    days = sorted({e["occurred_at"][:10] for e in events if e["type"] == "lesson.recorded"})
    midnight = datetime.fromisoformat(f"{days[day]}T00:00:00+06:00") + timedelta(days=1)
    evening = midnight - timedelta(hours=3)
    history = [e for e in events if datetime.fromisoformat(e["occurred_at"]) < evening]
    upgrade(url, "checker", SERVICES)
    engine = make_engine(url)
    process = InboxProcessor(engine, inbox, fold_events)
    for start in range(0, len(history), 1000):
        process([Event.from_envelope(e) for e in history[start:start + 1000]])
    first = sweep(engine, lambda: evening)
    print(f"school: parallels={parallels}, {len(history):,} events up to {evening}, "
          f"{first.findings:,} findings")
    engine.dispose()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    engine, whole = make_engine(url), make_engine(copy_url)

    with engine.connect() as connection:
        moment = deadlines_store.due_at(connection, "sch0001")
    assert moment is not None
    print(f"its next moment: {moment.astimezone(evening.tzinfo)}")
    t0 = time.perf_counter()
    assert prepare_ahead(engine, lambda: evening) == 1
    ahead_s = time.perf_counter() - t0
    at = moment + timedelta(seconds=1)
    t0 = time.perf_counter()
    tick = sweep(engine, lambda: at, dirty_only=True, due=True)
    tick_s = time.perf_counter() - t0
    assert tick.prepared == 1, tick
    t0 = time.perf_counter()
    full = sweep(whole, lambda: at, dirty_only=True, due=True)
    full_s = time.perf_counter() - t0
    assert full.prepared == 0 and full.schools == 1
    assert (tick.opened, tick.withdrawn) == (full.opened, full.withdrawn)
    print(f"at the moment: {tick.opened} findings opened, {tick.withdrawn} withdrawn")
    print(f"judged ahead (before the moment):      {ahead_s:6.2f} s")
    print(f"tick at the moment, judged ahead:      {tick_s:6.2f} s")
    print(f"tick at the moment, judged whole:      {full_s:6.2f} s "
          f"({full_s / tick_s:.0f}x the tick)")
    engine.dispose()
    whole.dispose()


if __name__ == "__main__":
    main()
