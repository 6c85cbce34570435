"""A national school day, scaled down: simulated schools' day through the gateway,
RabbitMQ and 1, 2 and 4 checker processes on PostgreSQL.

Kyrgyzstan: ~2,400 schools, 2-3 million journal events on a school day. This run
simulates ``--schools`` schools (default 12: a factor of 200 below the country) of
``--parallels`` classes per grade (2: ~620 students, the national mean), folds
their history before the chosen school day into the checker's database once
(that part is not timed), then for each number of checkers:

1. posts the day's events through ``kozomol gateway`` (batches of 100, as Kundoluk
   would) while the checkers fold them; prints events/s accepted by the gateway
   and folded by the checkers (sustained: all of the day's events over the time
   until the last one is folded), and the checkers' cost per event (CPU seconds
   per event) for the first and the last fifth of the day's events;
2. moves the checkers' clock to the late evening for two ticks (in which quiet
   schools are judged ahead; ``--no-ahead`` skips this), then to just before the
   day's end, and measures the lag,
   in real seconds, from the moment the day's deadlines pass (topics, homework,
   attendance: end of the lesson day) to the moment each finding is stored
   (p50, p99), with the sweeper's tick of ``--sweep-interval`` seconds;
3. prints each process's peak memory (gateway workers, checkers).

The checkers run as separate processes (``multiprocessing``, spawn) with a clock
shared with this script: the simulated time is the wall clock plus an offset the
script sets. Figures scale: events/s and CPU per event are per core of this
machine; the country needs ``--schools`` x factor times the events.

    .venv/bin/python bench/national_day.py                  # 12 schools, 1/2/4 checkers
    .venv/bin/python bench/national_day.py --schools 6 --checkers 1,2   # a quick run
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_intake import ROOT, GatewayProcess, Scratch, _free_port, _kozomol

from kozomol.simulator.delivery import send
from kozomol.simulator.run import SimulationSpec, school_events
from services.checker.adapters.tables import findings, inbox
from services.checker.handlers import fold_events, sweep
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.messaging.inbox import InboxProcessor
from shared.settings import new_webhook_secret

NATIONAL_SCHOOLS = 2400
DAY_RULES = ("lesson.topic.late", "homework.late", "attendance.late")


def simulate(schools: int, parallels: int, day_number: int
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], datetime]:
    """(history before the day, the day's events, the day's local midnight start); the
    rest of the quarter is dropped as it is generated (every school shares the
    calendar, so the first school's lesson days are every school's)."""
    first = SimulationSpec(seed=11, schools=1, parallels=1, terms=(1,))
    days = sorted({e["occurred_at"][:10] for e in school_events(first)
                   if e["type"] == "lesson.recorded"})
    start = datetime.fromisoformat(f"{days[day_number]}T00:00:00+06:00")
    end = start + timedelta(days=1)
    history, today = [], []
    spec = SimulationSpec(seed=11, schools=schools, parallels=parallels, terms=(1,))
    for event in school_events(spec):
        moment = datetime.fromisoformat(event["occurred_at"])
        if moment < start:
            history.append(event)
        elif moment < end:
            today.append(event)
    today.sort(key=lambda e: e["occurred_at"])
    return history, today, start


def checker_process(env: dict[str, str], offset: Any, ready: Any, stop: Any,
                    report: Any) -> None:
    """One checker service with the shared simulated clock; reports CPU and memory."""
    os.environ.update(env)
    from services.checker.main import bootstrap
    from shared.settings import load_settings

    def clock() -> datetime:
        return datetime.fromtimestamp(time.time() + offset.value, UTC)

    service = bootstrap(load_settings(), clock)
    service.start()
    ready.set()
    stop.wait()
    service.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report.put({"pid": os.getpid(), "cpu": usage.ru_utime + usage.ru_stime,
                "peak_mb": usage.ru_maxrss / 1024})


def cpu_of(pids: Sequence[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, IndexError):
            pass
    return total


def peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def children_of(pid: int) -> list[int]:
    found = []
    for path in Path("/proc").iterdir():
        if path.name.isdigit():
            try:
                if int((path / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(path.name))
            except (FileNotFoundError, IndexError, ValueError):
                pass
    return found


def prepare_template(scratch: Scratch, env: dict[str, str], history: list[dict[str, Any]],
                     day_start: datetime) -> None:
    scratch.create_database()
    subprocess.run([*_kozomol(), "db", "upgrade"], env=env, check=True, timeout=300,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    engine = make_engine(scratch.database_url)
    process = InboxProcessor(engine, inbox, fold_events)
    started = time.perf_counter()
    for start in range(0, len(history), 1000):
        process([Event.from_envelope(e) for e in history[start:start + 1000]])
    folded = time.perf_counter() - started
    swept = time.perf_counter()
    result = sweep(engine, lambda: day_start)
    print(f"history: {len(history):,} events folded in {folded:.0f} s, "
          f"{result.schools} schools swept in {time.perf_counter() - swept:.0f} s "
          f"({result.findings:,} findings)", flush=True)
    engine.dispose()


def clone(template: str, postgres_url: str, name: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def count(engine: Any, table: Any, *where: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(
            select(func.count()).select_from(table).where(*where)).scalar_one())


def run_step(checkers: int, args: argparse.Namespace, base_env: dict[str, str], *,
             template: Scratch, today: list[dict[str, Any]], day_start: datetime,
             secret: str) -> dict[str, Any]:
    scratch = Scratch(args.postgres_url, args.broker_url)
    clone(template.database, args.postgres_url, scratch.database)
    scratch._created_db = True
    env = {**base_env, "KOZOMOL_DATABASE_URL": scratch.database_url,
           "KOZOMOL_NAMESPACE": scratch.namespace, "KOZOMOL_DATA_DIR": str(scratch.data_dir),
           "KOZOMOL_SWEEP_INTERVAL": str(args.sweep_interval),
           "KOZOMOL_FULL_SWEEP_INTERVAL": "86400", "KOZOMOL_SETTLE_WINDOW": "0"}
    engine = make_engine(scratch.database_url)
    context = multiprocessing.get_context("spawn")
    # The school day's afternoon: the events are entered, nothing of the day is due yet.
    offset = context.Value("d", (day_start + timedelta(hours=17)).timestamp() - time.time())
    stop, report = context.Event(), context.Queue()
    readies = [context.Event() for _ in range(checkers)]
    processes = [context.Process(target=checker_process,
                                 args=(env, offset, readies[n], stop, report))
                 for n in range(checkers)]
    gateway = GatewayProcess(env, _free_port(), args.gateway_workers,
                             scratch.data_dir / "gateway.log")
    result: dict[str, Any] = {"checkers": checkers}
    try:
        for process in processes:
            process.start()
        for ready in readies:
            ready.wait(120)
        gateway.wait_ready()
        pids = [p.pid for p in processes if p.pid is not None]
        before = count(engine, inbox)
        total = len(today)
        marks: dict[int, tuple[float, float]] = {}
        started = time.perf_counter()
        cpu0 = cpu_of(pids)
        sent = send(today, gateway.base + "/webhooks/kundoluk", [secret], batch_size=100)
        posted = time.perf_counter() - started
        while True:
            done = count(engine, inbox) - before
            now = time.perf_counter()
            for fifth in range(1, 6):
                if done >= total * fifth / 5 and fifth not in marks:
                    marks[fifth] = (now, cpu_of(pids))
            if done >= total or now - started > 1800:
                break
            time.sleep(0.2)
        folded = time.perf_counter() - started
        first = (marks[1][1] - cpu0) / (total / 5)
        last = (marks[5][1] - marks[4][1]) / (total / 5)
        result.update(events=total, accepted=sent.accepted, posted_s=posted,
                      gateway_eps=total / posted, folded_s=folded, sustained_eps=total / folded,
                      cpu_first=first, cpu_last=last)
        # Let the ticks judge what the day's events changed, then cross midnight.
        time.sleep(2 * args.sweep_interval + 2)
        rules = findings.c.rule.in_(DAY_RULES)
        known = count(engine, findings, rules)
        midnight = day_start + timedelta(days=1)
        if args.ahead:  # the late evening: the ticks judge the quiet schools ahead
            offset.value = (midnight - timedelta(hours=2)).timestamp() - time.time()
            time.sleep(2 * args.sweep_interval + 2)
        offset.value = (midnight - timedelta(seconds=5)).timestamp() - time.time()
        passes_at = time.time() + 5
        seen: dict[str, float] = {}
        quiet_since = time.time()
        while time.time() - quiet_since < 3 * args.sweep_interval + 10:
            with engine.connect() as connection:
                ids = connection.execute(select(findings.c.id).where(
                    rules, findings.c.date == day_start.date())).scalars().all()
            for finding_id in ids:
                if finding_id not in seen:
                    seen[finding_id] = time.time()
                    quiet_since = time.time()
            time.sleep(0.1)
        lags = sorted(max(0.0, at - passes_at) for at in seen.values())
        result.update(day_findings=len(lags), earlier=known,
                      lag_p50=statistics.median(lags) if lags else None,
                      lag_p99=lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else None)
        workers = children_of(gateway.process.pid)
        result["gateway_peak_mb"] = [round(peak_kb(pid) / 1024) for pid in
                                     [gateway.process.pid, *workers]]
    finally:
        stop.set()
        for process in processes:
            process.join(60)
        reports = []
        while not report.empty():
            reports.append(report.get())
        result["checker_peak_mb"] = [round(r["peak_mb"]) for r in reports]
        gateway.stop()
        engine.dispose()
        for problem in scratch.close():
            print("clean-up:", problem)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=12)
    parser.add_argument("--parallels", type=int, default=2)
    parser.add_argument("--day", type=int, default=8, help="the quarter's n-th school day")
    parser.add_argument("--checkers", default="1,2,4")
    parser.add_argument("--sweep-interval", type=float, default=20.0)
    parser.add_argument("--gateway-workers", type=int, default=2)
    parser.add_argument("--ahead", action=argparse.BooleanOptionalAction, default=True,
                        help="give the checkers two quiet ticks before midnight, in which "
                             "they judge the schools ahead (--no-ahead: judged whole at "
                             "midnight)")
    parser.add_argument("--broker-url", default=os.environ.get(
        "KOZOMOL_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"))
    parser.add_argument("--postgres-url", default=os.environ.get(
        "KOZOMOL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args(argv)
    factor = NATIONAL_SCHOOLS / args.schools
    print(f"{args.schools} schools x {args.parallels} parallels (1/{factor:.0f} of the "
          f"country), school day {args.day}; simulating …", flush=True)
    history, today, day_start = simulate(args.schools, args.parallels, args.day)
    print(f"day {day_start.date()}: {len(today):,} events "
          f"(x{factor:.0f} = {len(today) * factor:,.0f} for the country)", flush=True)
    secret = new_webhook_secret()
    template = Scratch(args.postgres_url, args.broker_url)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")}
    base_env.update({"KOZOMOL_BROKER_URL": args.broker_url, "KOZOMOL_WEBHOOK_SECRETS": secret,
                     "KOZOMOL_QUEUE_TYPE": "quorum", "KOZOMOL_LOG_LEVEL": "WARNING",
                     "KOZOMOL_WEBHOOK_RATE_LIMIT": "1000000/second"})
    results = []
    try:
        prepare_template(template, {**base_env, "KOZOMOL_DATABASE_URL": template.database_url,
                                    "KOZOMOL_NAMESPACE": template.namespace,
                                    "KOZOMOL_DATA_DIR": str(template.data_dir)},
                         history, day_start)
        for checkers in (int(n) for n in args.checkers.split(",")):
            print(f"… {checkers} checker(s)", flush=True)
            results.append(run_step(checkers, args, base_env, template=template, today=today,
                                    day_start=day_start, secret=secret))
            print("   ", results[-1], flush=True)
    finally:
        template.close()
    print()
    print(f"{'checkers':>8} {'gateway ev/s':>12} {'folded ev/s':>11} {'CPU ms/ev first':>15} "
          f"{'last':>6} {'lag p50 s':>9} {'p99 s':>6} {'findings':>8} {'checker MB':>12} "
          f"{'gateway MB':>12}")
    for r in results:
        print(f"{r['checkers']:>8} {r.get('gateway_eps', 0):>12,.0f} "
              f"{r.get('sustained_eps', 0):>11,.0f} {1000 * r.get('cpu_first', 0):>15.2f} "
              f"{1000 * r.get('cpu_last', 0):>6.2f} {r.get('lag_p50') or 0:>9.1f} "
              f"{r.get('lag_p99') or 0:>6.1f} {r.get('day_findings', 0):>8} "
              f"{'/'.join(map(str, r.get('checker_peak_mb', []))):>12} "
              f"{'/'.join(map(str, r.get('gateway_peak_mb', []))):>12}")
    print(f"\nscale: x{factor:.0f} schools for the country; the day's deadlines fall at the "
          f"same local midnight for every school")


if __name__ == "__main__":
    main()
