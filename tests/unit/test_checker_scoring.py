"""The checker against the simulator's ground truth: every planted fault, nothing else."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest

from kozomol.simulator.delivery import arrange
from kozomol.simulator.faults import RULES, FaultRates, PlantedFault
from kozomol.simulator.run import SimulationSpec, collect_faults, judged_at, school_events
from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import Finding, Parameters, evaluate, identity

#: The catalog's defaults, with the journal-visits rule (off by default) switched on.
JUDGED_WITH = Parameters(journal_visits_rule=1)


def judge(spec: SimulationSpec) -> tuple[set[str], set[str], Counter[str]]:
    planted: list[PlantedFault] = []
    facts = SchoolFacts("sch0001")
    for event in arrange(school_events(spec, collect_faults(planted)), seed=spec.seed,
                         shuffle_window=300, duplicate_share=0.02):
        facts.apply(event["id"], event["type"], datetime.fromisoformat(event["occurred_at"]),
                    event["data"])
    found = {identity(finding) for finding in evaluate(facts, judged_at(spec), JUDGED_WITH)}
    truth = {identity(Finding(
        rule=f.rule, date=date.fromisoformat(f.date), class_id=f.class_id,
        subject_id=f.subject_id, subgroup=f.subgroup, student_id=f.student_id,
        lesson_id=f.lesson_id, mark_id=f.mark_id, term_id=f.term_id)) for f in planted}
    return found, truth, Counter(f.rule for f in planted)


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_a_zero_fault_school_gives_zero_findings_for_a_whole_year(language: str) -> None:
    # (joiners and leavers, half-year grades 10-11, short exemptions and outages included)
    spec = SimulationSpec(seed=21, parallels=1, grades=(1, 2, 5, 9, 11), terms=(1, 2, 3, 4),
                          rates=FaultRates.none(), language=language)
    found, truth, _ = judge(spec)
    assert truth == set()
    assert found == set()


@pytest.mark.parametrize(("seed", "language", "terms"), [
    (3, "ru", (1,)), (17, "ru", (1,)),
    (5, "ky", (1,)),            # a Kyrgyz-language school
    (9, "ru", (1, 2, 3, 4)),    # a year: half-years, year marks, roster changes, outages
])
def test_every_planted_fault_is_found_and_nothing_else(seed: int, language: str,
                                                       terms: tuple[int, ...]) -> None:
    spec = SimulationSpec(seed=seed, parallels=1, grades=(2, 5, 7, 10), terms=terms,
                          rates=FaultRates.default(6.0), language=language)
    found, truth, planted = judge(spec)
    assert found - truth == set(), "findings nobody planted"
    assert truth - found == set(), "planted faults not found"
    assert len(planted) >= len(RULES) - 3  # nearly every rule is exercised
