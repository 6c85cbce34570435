"""Many schools, one after the other: the stream ``kozomol simulate`` and the demo use."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kozomol.simulator.activity import Simulation
from kozomol.simulator.faults import FaultRates, PlantedFault
from kozomol.simulator.school import generate_school


@dataclass(frozen=True)
class SimulationSpec:
    seed: int = 1
    schools: int = 1
    parallels: int = 2
    grades: Sequence[int] = tuple(range(1, 12))
    terms: tuple[int, ...] = (1,)
    weekend: tuple[str, ...] = ("sun",)
    rates: FaultRates = field(default_factory=FaultRates.default)
    language: str = "ru"   # language of instruction of every school: "ru" or "ky"


def parse_terms(text: str) -> tuple[int, ...]:
    """"1", "1-4" or "2,3" → the quarters to simulate."""
    numbers: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        numbers.extend(range(int(low), int(high or low) + 1))
    if not numbers or any(n not in (1, 2, 3, 4) for n in numbers) or numbers != sorted(numbers):
        raise ValueError("terms are quarters 1-4 in order, e.g. 1 or 1-4")
    return tuple(numbers)


def school_events(spec: SimulationSpec,
                  on_school_done: Callable[[Simulation], None] | None = None,
                  ) -> Iterator[dict[str, Any]]:
    """Every school's events in time order, school by school (constant memory).

    A nationwide outage (``school_id: "*"``) is the same for every school of the seed:
    it comes once, with the first school that has it.
    """
    nationwide: set[str] = set()
    for number in range(1, spec.schools + 1):
        school = generate_school(spec.seed, school_number=number, parallels=spec.parallels,
                                 grades=spec.grades, weekend=spec.weekend,
                                 language=spec.language)
        simulation = Simulation(school, spec.rates, seed=spec.seed, terms=spec.terms)
        for event in simulation.events():
            if event["school_id"] == "*":
                if event["id"] in nationwide:
                    continue
                nationwide.add(event["id"])
            yield event
        if on_school_done is not None:
            on_school_done(simulation)


def judged_at(spec: SimulationSpec) -> datetime:
    """The moment the simulated result is to be judged (the checker's clock)."""
    school = generate_school(spec.seed, school_number=1, parallels=1, grades=(5,),
                             weekend=spec.weekend)
    return Simulation(school, FaultRates.none(), seed=spec.seed, terms=spec.terms).as_of


def collect_faults(into: list[PlantedFault]) -> Callable[[Simulation], None]:
    return lambda simulation: into.extend(simulation.faults)
