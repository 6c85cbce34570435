"""How the simulator scales: events per second and peak memory as schools are added.

Streams N schools' first quarter (or the whole year with --terms 1-4) to
nowhere and prints, after each school, the events so far, the rate and the
process's peak resident memory, so anyone can see memory stay flat while the
event count grows (the simulator holds one school and a few weeks of pending
events at a time).

    .venv/bin/python bench/simulator_scale.py --schools 20
"""

from __future__ import annotations

import argparse
import resource
import time

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, parse_terms, school_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=10)
    parser.add_argument("--parallels", type=int, default=2)
    parser.add_argument("--terms", default="1")
    args = parser.parse_args()
    spec = SimulationSpec(seed=1, schools=args.schools, parallels=args.parallels,
                          terms=parse_terms(args.terms), rates=FaultRates.default())
    started = time.perf_counter()
    count, school = 0, ""
    print(f"{'schools':>8} {'events':>12} {'events/s':>10} {'peak RSS MB':>12}")
    for event in school_events(spec):
        if event["school_id"] != school and school:
            report(int(school.removeprefix("sch")), count, started)
        school = event["school_id"]
        count += 1
    report(args.schools, count, started)


def report(schools: int, count: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{schools:>8} {count:>12,} {count / elapsed:>10,.0f} {peak_mb:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
