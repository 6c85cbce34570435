"""Score the checker's rules against the simulator's ground truth, rule by rule.

Simulates schools, folds their events into the checker's facts (shuffled and
with duplicate deliveries, since order must not matter), evaluates every rule at
the simulation's judging moment, and prints planted / found / true positives /
precision / recall per rule. A zero-fault run must find nothing at all.

    .venv/bin/python bench/score_checker.py                  # default fault rates
    .venv/bin/python bench/score_checker.py --faults none    # must print 0 findings
    .venv/bin/python bench/score_checker.py --terms 1-4 --parallels 2
    .venv/bin/python bench/score_checker.py --language ky    # a Kyrgyz-language school
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kozomol.simulator.delivery import arrange
from kozomol.simulator.faults import RULES, FaultRates, PlantedFault, finding_key
from kozomol.simulator.run import (
    SimulationSpec,
    collect_faults,
    judged_at,
    parse_terms,
    school_events,
)
from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import Finding, Parameters, evaluate

#: The catalog's defaults, with the journal-visits rule (off by default) switched on.
JUDGED_WITH = Parameters(journal_visits_rule=1)


@dataclass
class Score:
    planted: Counter[str]
    found: Counter[str]
    matched: Counter[str]
    missed: list[tuple[str, ...]]
    extra: list[tuple[str, ...]]


def score(spec: SimulationSpec, *, shuffle_window: int = 2000,
          duplicate_share: float = 0.02) -> Score:
    planted: list[PlantedFault] = []
    schools: dict[str, SchoolFacts] = {}
    nationwide: dict[str, dict[str, Any]] = {}  # school_id "*": for every school, kept once
    for event in arrange(school_events(spec, collect_faults(planted)), seed=spec.seed,
                         shuffle_window=shuffle_window, duplicate_share=duplicate_share):
        if event["school_id"] == "*":
            nationwide[event["id"]] = event
            continue
        facts = schools.setdefault(event["school_id"], SchoolFacts(event["school_id"]))
        facts.apply(event["id"], event["type"], datetime.fromisoformat(event["occurred_at"]),
                    event["data"])
    for facts in schools.values():
        for event in nationwide.values():
            facts.apply(event["id"], event["type"],
                        datetime.fromisoformat(event["occurred_at"]), event["data"])
    now = judged_at(spec)
    findings: list[tuple[str, Finding]] = [
        (school_id, finding) for school_id, facts in schools.items()
        for finding in evaluate(facts, now, JUDGED_WITH)]
    truth = {fault.key() for fault in planted}
    found = {key_of(school_id, finding) for school_id, finding in findings}
    return Score(planted=Counter(k[0] for k in truth), found=Counter(k[0] for k in found),
                 matched=Counter(k[0] for k in truth & found),
                 missed=sorted(truth - found), extra=sorted(found - truth))


def key_of(school_id: str, finding: Finding) -> tuple[str, ...]:
    fields: dict[str, Any] = {
        "lesson_id": finding.lesson_id, "mark_id": finding.mark_id,
        "class_id": finding.class_id, "subject_id": finding.subject_id,
        "subgroup": finding.subgroup, "student_id": finding.student_id,
        "term_id": finding.term_id, "date": finding.date.isoformat()}
    return finding_key(finding.rule, school_id, **fields)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--schools", type=int, default=1)
    parser.add_argument("--parallels", type=int, default=2)
    parser.add_argument("--terms", default="1")
    parser.add_argument("--faults", choices=("default", "none"), default="default")
    parser.add_argument("--fault-scale", type=float, default=1.0)
    parser.add_argument("--language", choices=("ru", "ky"), default="ru",
                        help="language of instruction of the simulated schools")
    parser.add_argument("--show", type=int, default=5, help="misses/extras listed per run")
    args = parser.parse_args()
    rates = FaultRates.none() if args.faults == "none" else FaultRates.default(args.fault_scale)
    spec = SimulationSpec(seed=args.seed, schools=args.schools, parallels=args.parallels,
                          terms=parse_terms(args.terms), rates=rates, language=args.language)
    result = score(spec)
    print(f"{'rule':<34}{'planted':>8}{'found':>8}{'matched':>8}{'precision':>10}{'recall':>8}")
    for rule in RULES:
        planted, found, matched = (result.planted[rule], result.found[rule],
                                   result.matched[rule])
        precision = f"{matched / found:.0%}" if found else "—"
        recall = f"{matched / planted:.0%}" if planted else "—"
        print(f"{rule:<34}{planted:>8}{found:>8}{matched:>8}{precision:>10}{recall:>8}")
    total_p, total_f = sum(result.planted.values()), sum(result.found.values())
    total_m = sum(result.matched.values())
    print(f"{'total':<34}{total_p:>8}{total_f:>8}{total_m:>8}")
    for label, keys in (("missed", result.missed), ("not planted", result.extra)):
        for key in keys[:args.show]:
            print(f"{label}: {key}")
    return 0 if not result.missed and not result.extra else 1


if __name__ == "__main__":
    sys.exit(main())
