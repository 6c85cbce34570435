"""Deadlines judged as they fall due: between the moments ``next_change`` names, a school
that receives nothing has exactly the findings a full evaluation gives (issue 20)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.domain.deadlines import next_change
from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import Finding, Parameters, evaluate

SPEC = SimulationSpec(seed=5, parallels=1, grades=(3, 7), terms=(1,),
                      rates=FaultRates.default(6.0))


@cache
def events() -> tuple[dict[str, Any], ...]:
    return tuple(sorted(school_events(SPEC), key=lambda e: e["occurred_at"]))


def described(findings: list[Finding]) -> set[tuple[Any, ...]]:
    """Findings with their evidence (what a finding's description shows)."""
    return {(finding, repr(sorted(finding.evidence.items()))) for finding in findings}


def moments(rng: random.Random) -> list[datetime]:
    """Every few hours over the quarter and the days after it, at random minutes, plus
    the first seconds after local midnight (when most deadlines pass)."""
    first = datetime.fromisoformat(events()[0]["occurred_at"])
    last = judged_at(SPEC) + timedelta(days=12)
    chosen, moment = [], first
    while moment < last:
        moment += timedelta(hours=rng.uniform(2, 12))
        chosen.append(moment)
    day = first.replace(hour=18, minute=0, second=0, microsecond=0)  # 00:00 in Bishkek
    while day < last:
        chosen.append(day + timedelta(seconds=rng.uniform(0, 5)))
        day += timedelta(days=1)
    return sorted(chosen)


@pytest.mark.parametrize("plans", [True, False], ids=["with plans", "without plans"])
def test_a_school_judged_only_when_events_come_or_a_deadline_passes_has_a_full_sweeps_findings(
        plans: bool) -> None:
    """Without plans the program rule, which changes every midnight of the term, does
    not hide the other deadlines."""
    params = Parameters(outage_grace_days=1)
    facts = SchoolFacts("sch0001")
    pending = [event for event in events() if plans or event["type"] != "subject.plan"]
    judged: set[tuple[Any, ...]] = set()
    due: datetime | None = None
    sweeps = checked = 0
    for now in moments(random.Random(20)):
        arrived = False
        while pending and datetime.fromisoformat(pending[0]["occurred_at"]) <= now:
            event = pending.pop(0)
            facts.apply(event["id"], event["type"], datetime.fromisoformat(event["occurred_at"]),
                        event["data"])
            arrived = True
        if arrived or (due is not None and now >= due):
            judged = described(evaluate(facts, now, params))
            due = next_change(facts, now, params)
            sweeps += 1
        assert judged == described(evaluate(facts, now, params)), now
        checked += 1
    assert sweeps < checked  # quiet moments were really skipped
    assert len(judged) > 30  # and the school is faulty enough for this to mean something


def test_the_next_change_is_a_real_change_for_a_quiet_school() -> None:
    """After the quarter's last event, the moments named are when findings appear."""
    facts = SchoolFacts("sch0001")
    for event in events():
        facts.apply(event["id"], event["type"], datetime.fromisoformat(event["occurred_at"]),
                    event["data"])
    now = datetime.fromisoformat(events()[-1]["occurred_at"])
    changed = 0
    for _ in range(6):
        due = next_change(facts, now)
        if due is None:
            break
        assert due > now
        before = described(evaluate(facts, due - timedelta(microseconds=1)))
        assert before == described(evaluate(facts, now))
        changed += before != described(evaluate(facts, due))
        now = due
    assert changed >= 1


def test_nothing_is_due_without_a_calendar() -> None:
    assert next_change(SchoolFacts("sch0001"), datetime(2026, 9, 1, tzinfo=UTC)) is None
