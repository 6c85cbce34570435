"""Order does not matter: the same events in any order, with duplicates, give the same findings."""

from __future__ import annotations

import random
from datetime import datetime
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import evaluate

SPEC = SimulationSpec(seed=9, parallels=1, grades=(2, 6), rates=FaultRates.default(8.0))


@cache
def events() -> tuple[dict[str, Any], ...]:
    return tuple(school_events(SPEC))


def findings_of(stream: list[dict[str, Any]]) -> set[Any]:
    facts = SchoolFacts("sch0001")
    for event in stream:
        facts.apply(event["id"], event["type"], datetime.fromisoformat(event["occurred_at"]),
                    event["data"])
    return set(evaluate(facts, judged_at(SPEC)))


@cache
def in_order() -> frozenset[Any]:
    return frozenset(findings_of(list(events())))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), duplicate_share=st.floats(0, 0.3))
def test_any_order_with_duplicates_gives_the_same_findings(seed: int,
                                                           duplicate_share: float) -> None:
    rng = random.Random(seed)
    stream = list(events())
    stream += [event for event in stream if rng.random() < duplicate_share]
    rng.shuffle(stream)
    assert findings_of(stream) == in_order()
    assert len(in_order()) > 50  # the school is faulty enough for this to mean something
