"""Backup, verify and restore of a simulated school year on PostgreSQL, old and new.

Generates one school (``--parallels`` classes per grade 1-11: 5 gives about
1,560 students, 1 about 300) for the quarters asked, appends its events to the
backup service's journal record in a fresh PostgreSQL database, then runs each
step in a process of its own, so that each step's peak memory (RSS, the
step's process and any worker it starts) is its own:

- backup: journal → members (events, chain, derived tables) → tar → zstd → AES-GCM → store;
- verify (read): the check after every backup - the stored file read once,
  every chunk authenticated, every member hashed, the journal parsed and its
  chain checked, every table record decoded and counted;
- verify (trial restore): once per retention cycle - the same, plus a restore into a
  scratch SQLite database and re-derivation of every journal and table member;
- restore: into a second, empty PostgreSQL database (chain checked while loading).

With ``--old-tree DIR`` (a checkout of the code before streaming, e.g.
``git archive 6be805b | tar -x -C DIR``) the same school is also backed up and
verified by the old code in the same run: its backup, and its verify with the
trial restore after every backup (issue 20's "today"). Each step prints wall
seconds, CPU seconds (the step's processes; the database server's work not
counted) and peak RSS.

    .venv/bin/python bench/backup_cycle.py --old-tree /tmp/kozomol-old   # the 1,500-student year
    .venv/bin/python bench/backup_cycle.py --parallels 1 --terms 1       # a quick run
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import orjson
import psycopg

POSTGRES_URL = os.environ.get("KOZOMOL_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
HERE = Path(__file__).resolve()


def database() -> str:
    name = f"kozomol_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def drop(name: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url_of(name: str) -> str:
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parallels", type=int, default=5)
    parser.add_argument("--terms", default="1-4")
    parser.add_argument("--old-tree", type=Path, default=None,
                        help="a checkout of the old code, measured in the same run")
    parser.add_argument("--step", help=argparse.SUPPRESS)   # in a step's own process
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step(args.step, orjson.loads(args.job))
        return
    source_db, target_db = database(), database()
    scratch = Path(tempfile.mkdtemp(prefix="kozomol-bench-"))
    try:
        run(args, source_db, target_db, scratch)
    finally:
        drop(source_db)
        drop(target_db)


def journal(args: argparse.Namespace, url: str) -> tuple[int, list[Any]]:
    """Journal the simulated year but its last days, an average school day's
    worth of events (total / school days), which are returned: the day's new
    events a scheduled (daily) backup finds after the one before."""
    from kozomol.simulator.run import SimulationSpec, parse_terms, school_events
    from services.backup.adapters import journal_store
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade
    from shared.events.envelope import Event
    from shared.settings import SERVICES

    spec = SimulationSpec(seed=1, parallels=args.parallels, terms=parse_terms(args.terms))
    upgrade(url, "backup", SERVICES)
    engine = make_engine(url)
    print(f"simulating and journaling one school, parallels={spec.parallels}, "
          f"terms={spec.terms} …", flush=True)
    started, count, batch = time.perf_counter(), 0, []
    held: deque[list[Event]] = deque()   # the last whole days, not journaled yet
    held_count = seen = days = 0
    day = ""

    def write(events: list[Event]) -> None:
        with engine.begin() as connection:
            journal_store.append(connection, events)

    for envelope in school_events(spec):
        seen += 1
        if envelope["occurred_at"][:10] != day:
            day, days = envelope["occurred_at"][:10], days + 1
            held.append([])
            # keep only as many of the last days as make up an average day
            while len(held) > 1 and held_count - len(held[0]) >= seen / days:
                oldest = held.popleft()
                held_count -= len(oldest)
                batch.extend(oldest)
        held[-1].append(Event.from_envelope(envelope))
        held_count += 1
        while len(batch) >= 1000:
            write(batch[:1000])
            count += 1000
            batch = batch[1000:]
    if batch:
        write(batch)
        count += len(batch)
    journaled = time.perf_counter() - started
    print(f"journal: {count:,} events in {journaled:.1f} s "
          f"(simulate + append, {count / journaled:,.0f} events/s); held back for the next "
          f"day: {held_count:,} events of the last {len(held)} days ({seen:,} events, "
          f"{days} days in all)", flush=True)
    engine.dispose()
    return count, [event for events in held for event in events]


def append_day(url: str, events: list[Any]) -> None:
    from services.backup.adapters import journal_store
    from shared.db.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        for start in range(0, len(events), 1000):
            journal_store.append(connection, events[start:start + 1000])
    engine.dispose()


def run(args: argparse.Namespace, source_db: str, target_db: str, scratch: Path) -> None:
    source, target = url_of(source_db), url_of(target_db)
    count, day = journal(args, source)
    job = {"source": source, "store": str(scratch / "backups"),
           "scratch": str(scratch), "key": base64.b64encode(secrets.token_bytes(32)).decode()}
    results: list[tuple[str, dict[str, Any], int]] = []

    def measure(label: str, name: str, tree: Path | None = None, events: int = count,
                **extra: Any) -> dict[str, Any]:
        print(f"{label} …", flush=True)
        result = run_step(name, {**job, **extra}, tree)
        results.append((label, result, events))
        return result

    def both(*steps: dict[str, Any]) -> tuple[float, float]:
        return sum(step["seconds"] for step in steps), sum(step["cpu"] for step in steps)

    old_first = old_daily = None
    if args.old_tree is not None:
        old = measure("old: backup", "backup", args.old_tree)
        old_verify = measure("old: verify (trial restore after every backup)", "verify_trial",
                             args.old_tree, archive=old["key"])
        old_first = both(old, old_verify)
    # the first backup folds the whole year and keeps the fold for the next one
    new = measure("backup (first: whole journal folded)", "backup", kept=str(scratch / "kept"))
    read = measure("verify (read, after every backup)", "verify_read", archive=new["key"])
    measure("verify (trial restore, once per retention cycle)", "verify_trial",
            archive=new["key"])
    measure("restore", "restore", archive=new["key"], target=target)
    first = both(new, read)

    append_day(source, day)
    total = count + len(day)
    print(f"a day's new events journaled: {len(day):,}", flush=True)
    if args.old_tree is not None:
        old = measure("old: backup (the next day)", "backup", args.old_tree, events=total)
        old_verify = measure("old: verify (the next day, trial restore)", "verify_trial",
                             args.old_tree, events=total, archive=old["key"])
        old_daily = both(old, old_verify)
    daily = measure("backup (the next day: the day's events folded)", "backup", events=total,
                    kept=str(scratch / "kept"))
    daily_read = measure("verify (the next day, read)", "verify_read", events=total,
                         archive=daily["key"])
    assert {k: v for k, v in daily["checksums"].items() if k.startswith("tables/")} \
        != {k: v for k, v in new["checksums"].items() if k.startswith("tables/")}, \
        "the day's events changed no table"
    daily_total = both(daily, daily_read)

    members, archive = new["members"], new["bytes"]
    mb = members["journal/events.jsonl"] / 1e6
    print()
    print(f"school year: {count:,} events (+{len(day):,} the next day), journal bodies "
          f"{mb:,.1f} MB, all members {sum(members.values()) / 1e6:,.1f} MB, "
          f"archive {archive / 1e6:,.1f} MB")
    print(f"{'step':<50} {'seconds':>8} {'CPU s':>7} {'events/s':>9} {'peak RSS MB':>12}")
    for label, result, events in results:
        print(f"{label:<50} {result['seconds']:>8.1f} {result['cpu']:>7.1f} "
              f"{events / result['seconds']:>9,.0f} {result['peak_mb']:>12,.0f}")
    for what, new_total, old_total in (("first backup + verify", first, old_first),
                                       ("next day's backup + verify", daily_total,
                                        old_daily)):
        print(f"{what}: {new_total[0]:.1f} s wall, {new_total[1]:.1f} s CPU", end="")
        if old_total is not None:
            print(f"; old: {old_total[0]:.1f} s wall, {old_total[1]:.1f} s CPU: "
                  f"{old_total[0] / new_total[0]:.1f}x faster (wall), "
                  f"{old_total[1] / new_total[1]:.1f}x less CPU", end="")
        print()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} cores; other work on the machine slows the wall figures)")


def run_step(name: str, job: dict[str, Any], tree: Path | None) -> dict[str, Any]:
    """One step in a fresh interpreter: its own peak RSS; ``tree`` first on the path."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, str(HERE), "--step", name,
                           "--job", orjson.dumps(job).decode()],
                          env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{done.stderr.decode()[-4000:]}")
    return dict(orjson.loads(done.stdout.splitlines()[-1]))


def step(name: str, job: dict[str, Any]) -> None:
    """Run one step here and print one JSON line (seconds, CPU, peak RSS, results)."""
    from services.backup.adapters.crypto import parse_key
    from services.backup.handlers import (
        BackupContext,
        create_request,
        restore,
        verify,
        write_backup,
    )
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade
    from shared.settings import SERVICES
    from shared.storage import LocalFileStore

    engine = make_engine(job["source"])
    # the old code has no kept tables: only the new steps are given a folder for them
    kept: dict[str, Any] = {"kept_tables": Path(job["kept"])} if job.get("kept") else {}
    ctx = BackupContext(engine=engine, archives=LocalFileStore(Path(job["store"])),
                        files=None, key=parse_key(job["key"]), scratch=Path(job["scratch"]),
                        **kept)
    out: dict[str, Any] = {}
    target = None
    if name == "restore":
        upgrade(job["target"], "backup", SERVICES)
        target = make_engine(job["target"])
    started, cpu = time.perf_counter(), _cpu()
    if name == "backup":
        outcome = write_backup(ctx, create_request(engine, "*", "manual", "bench", ctx.clock()),
                               "*", "manual")
        assert outcome.manifest is not None
        out = {"key": outcome.key, "bytes": outcome.bytes,
               "members": {m.name: m.size for m in outcome.manifest.members},
               "checksums": outcome.manifest.checksums}
    elif name in ("verify_read", "verify_trial"):
        checked = verify(ctx, job["archive"], trial_restore=name == "verify_trial")
        assert checked.ok, checked.problems
        out = {"events": checked.events}
    elif name == "restore":
        assert target is not None
        out = {"events": restore(ctx, job["archive"], target).events}
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    peak = max(resource.getrusage(who).ru_maxrss
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    print(orjson.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, **out}).decode())
    engine.dispose()
    if target is not None:
        target.dispose()


def _cpu() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
