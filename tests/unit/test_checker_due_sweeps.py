"""The checker's ticks (dirty and due schools, findings judged ahead for quiet schools)
store exactly the findings a full sweep at every moment stores (issue 20)."""

from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.adapters.findings_store import DESCRIPTION
from services.checker.adapters.tables import findings
from services.checker.handlers import fold_events, prepare_ahead, sweep
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES

SPEC = SimulationSpec(seed=3, schools=2, parallels=1, grades=(5,), terms=(1,),
                      rates=FaultRates.default(6.0))


def checker_database(path: Path) -> Engine:
    url = f"sqlite:///{path}"
    upgrade(url, "checker", SERVICES)
    return make_engine(url)


def stored(engine: Engine) -> dict[tuple[str, str], tuple[Any, ...]]:
    with engine.connect() as connection:
        return {(row.school_id, row.finding_key):
                (row.status, *(repr(row._mapping[name]) for name in DESCRIPTION))
                for row in connection.execute(select(findings))}


def test_ticks_store_what_full_sweeps_store_at_every_moment(tmp_path: Path) -> None:
    events = sorted(school_events(SPEC), key=lambda e: e["occurred_at"])
    ticking, full = (checker_database(tmp_path / "ticks.db"),
                     checker_database(tmp_path / "full.db"))
    rng = random.Random(3)
    end = judged_at(SPEC) + timedelta(days=12)
    # From the quarter's fourth week to after its term-mark and personal-data deadlines,
    # every few hours, and a little after each local midnight.
    now = end - timedelta(days=40)
    moments = []
    while now < end:
        now += timedelta(hours=rng.uniform(2, 14))
        moments.append(now)
    midnight = (end - timedelta(days=40)).replace(hour=18, minute=0, second=0, microsecond=0)
    while midnight < end:
        moments.append(midnight + timedelta(seconds=rng.uniform(0, 90)))
        midnight += timedelta(days=1)
    ahead = quiet = 0
    for moment in sorted(moments):
        batch = []
        while events and datetime.fromisoformat(events[0]["occurred_at"]) <= moment:
            batch.append(Event.from_envelope(events.pop(0)))
        for engine in (ticking, full):
            if batch:
                with engine.begin() as connection:
                    fold_events(connection, batch)
        clock = functools.partial(lambda at: at, moment)
        result = sweep(ticking, clock, dirty_only=True, due=True)
        ahead += result.prepared
        quiet += result.schools == 0
        prepare_ahead(ticking, clock, horizon=timedelta(hours=16))
        sweep(full, clock)
        assert stored(ticking) == stored(full), moment
    assert ahead >= 5  # moments were met with findings judged ahead
    assert quiet > 10  # and some ticks had nothing to do
    assert len([v for v in stored(full).values() if v[0] == "open"]) > 30
