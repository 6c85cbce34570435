"""A national school day of the notifier: reminders, parents' notices and digests for N
schools computed and queued, in messages per second and peak memory.

One simulated school (the simulator, 2 classes per grade 1-11) is folded into the
notifier's store up to 16:00 of a school day, as the consumer would; its records of
that day (people, calendar, plans, the day's lessons, attendance and marks, the
written work due tomorrow) are copied under N school ids, with 40 open findings
each. Then the planner runs at 16:05 (reminders and parents' notices) and at 17:05
(digests) for every school, as the service does, with e-mail and the outgoing
webhook enabled, and the messages are queued (not sent).

    .venv/bin/python bench/notifier_day.py --schools 240     # a tenth of the country
    .venv/bin/python bench/notifier_day.py --schools 2400 --database-url postgresql://…
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import takewhile
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from kozomol.simulator.run import SimulationSpec, school_events
from services.notifier.adapters.channels import Channels
from services.notifier.adapters.tables import findings, messages, records
from services.notifier.handlers import Notifier, fold_events
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES, load_settings

ZONE = ZoneInfo("Asia/Bishkek")
DAY = date(2026, 9, 14)
#: the records a day's planning reads; lessons and marks only of the two days it looks at
WHOLE_KINDS = ("calendar", "teacher", "student", "class", "plan", "parameters")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=240)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="notifier-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'notifier.sqlite3'}"
    settings = replace(load_settings(), database_url=url, notifier_smtp_host="127.0.0.1",
                       notifier_webhook_url="http://127.0.0.1:9/never",
                       notifier_webhook_secret="whsec_" + "A" * 43 + "=",
                       notifier_settling_minutes=60)
    upgrade(url, "notifier", SERVICES)
    engine = make_engine(url)
    cutoff = datetime.combine(DAY, clock_time(16, 0), tzinfo=ZONE)
    started = time.perf_counter()
    spec = SimulationSpec(seed=3, parallels=2)
    events = [Event.from_envelope(e) for e in takewhile(
        lambda e: datetime.fromisoformat(e["occurred_at"]) <= cutoff, school_events(spec))]
    template = events[0].school_id
    with engine.begin() as connection:
        for start in range(0, len(events), 2000):
            fold_events(connection, events[start:start + 2000])
    fold_s = time.perf_counter() - started
    written_day = DAY - timedelta(days=6)
    with engine.begin() as connection:
        rows = [r._asdict() for r in connection.execute(select(records).where(
            records.c.school_id == template)) if r.kind in WHOLE_KINDS
            or r.day in (DAY, written_day)
            or r.kind == "attendance"]
        lesson_ids = {r["entity_key"] for r in rows if r["kind"] == "lesson"}
        rows = [r for r in rows if r["kind"] != "attendance" or r["entity_key"] in lesson_ids]
        teachers = [r["entity_key"] for r in rows if r["kind"] == "teacher"]
        connection.execute(records.delete())
    rng = random.Random(1)
    copy_started = time.perf_counter()
    for number in range(1, args.schools + 1):
        school_id = f"sch{number:05d}"
        with engine.begin() as connection:
            connection.execute(insert(records), [{**r, "school_id": school_id} for r in rows])
            connection.execute(insert(findings), [{
                "finding_id": f"{school_id}-f{i}", "school_id": school_id,
                "stamp": "2026-09-13T00:00:00+00:00|x", "status": "open",
                "rule": "lesson.topic.late", "responsible": "teacher",
                "teacher_id": rng.choice(teachers), "class_id": None,
                "day": DAY - timedelta(days=rng.randint(1, 10)),
                "message": "Тема урока 10.09.2026 не внесена в день проведения урока.",
                "opened_at": datetime(2026, 9, 14, tzinfo=UTC) - timedelta(hours=rng.randint(
                    2, 200))} for i in range(40)])
    copy_s = time.perf_counter() - copy_started
    print(f"template school: {len(events):,} events folded in {fold_s:.1f} s; "
          f"{len(rows):,} records of the day copied to {args.schools:,} schools in "
          f"{copy_s:.1f} s")
    print(f"{'pass':<28} {'messages':>10} {'seconds':>8} {'messages/s':>11} {'peak RSS MB':>12}")
    total, total_s = 0, 0.0
    for label, at in (("16:05 reminders + parents", clock_time(16, 5)),
                      ("17:05 digests", clock_time(17, 5))):
        moment = datetime.combine(DAY, at, tzinfo=ZONE).astimezone(UTC)
        notifier = Notifier(engine, settings, Channels(settings), lambda m=moment: m)
        before = _count(engine)
        began = time.perf_counter()
        notifier.plan()
        seconds = time.perf_counter() - began
        made = _count(engine) - before
        total, total_s = total + made, total_s + seconds
        print(f"{label:<28} {made:>10,} {seconds:>8.1f} {made / seconds:>11,.0f} "
              f"{peak_mb():>12.0f}")
    print(f"{'the day':<28} {total:>10,} {total_s:>8.1f} {total / total_s:>11,.0f} "
          f"{peak_mb():>12.0f}")
    print(f"database: {url}")


def _count(engine: object) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(select(func.count()).select_from(messages)).scalar_one())


if __name__ == "__main__":
    main()
