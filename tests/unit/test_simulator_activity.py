"""The simulated year of activity: deterministic, valid, faults planted and recorded once."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date, datetime
from functools import cache
from typing import Any

import orjson
import pytest

from kozomol.simulator.activity import Simulation
from kozomol.simulator.delivery import arrange, batches
from kozomol.simulator.faults import RULES, FaultRates, read_ground_truth, write_ground_truth
from kozomol.simulator.school import generate_school
from shared.events.schemas import validation_errors

SMALL = {"parallels": 1, "grades": (1, 3, 6, 8)}


@cache
def run(seed: int, faults: str, scale: float = 1.0) -> tuple[tuple[dict[str, Any], ...], Any]:
    school = generate_school(seed, **SMALL)  # type: ignore[arg-type]
    rates = FaultRates.none() if faults == "none" else FaultRates.default(scale)
    simulation = Simulation(school, rates, seed=seed, terms=(1,))
    return tuple(simulation.events()), simulation


def test_the_same_seed_gives_byte_identical_events() -> None:
    first = b"\n".join(orjson.dumps(e) for e in run(7, "default")[0])
    school = generate_school(7, **SMALL)  # type: ignore[arg-type]
    again = Simulation(school, FaultRates.default(), seed=7, terms=(1,))
    assert b"\n".join(orjson.dumps(e) for e in again.events()) == first
    assert b"\n".join(orjson.dumps(e) for e in run(8, "default")[0]) != first


def test_every_event_passes_the_gateway_validation() -> None:
    events, _ = run(3, "default", 5.0)
    invalid = [(e["type"], validation_errors(e)) for e in events if validation_errors(e)]
    assert invalid == []
    assert {e["type"] for e in events} >= {
        "school.calendar", "teacher.profile", "class.roster", "student.profile", "subject.plan",
        "lesson.recorded", "attendance.recorded", "mark.recorded",
        "exemption.recorded", "personal_data.verified", "platform.outage"}


def test_events_come_in_time_order_with_unique_ids() -> None:
    events, simulation = run(3, "default")
    moments = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert moments == sorted(moments)
    assert len({e["id"] for e in events}) == len(events)
    assert moments[-1] < simulation.as_of


def test_a_zero_fault_school_plants_nothing() -> None:
    _, simulation = run(5, "none")
    assert simulation.faults == []


def test_a_faulty_school_plants_every_rule_and_records_each_fault_once() -> None:
    events, simulation = run(5, "default", 10.0)
    keys = [fault.key() for fault in simulation.faults]
    assert len(keys) == len(set(keys)), "a fault was recorded twice"
    planted_rules = {fault.rule for fault in simulation.faults}
    # Everything but rules whose eligible entities a four-class school may lack.
    assert planted_rules >= set(RULES) - {"subgroup.wrong_teacher",
                                          "topic.double_lesson_duplicate"}
    lesson_ids = {e["data"]["lesson_id"] for e in events if e["type"] == "lesson.recorded"}
    mark_ids = {e["data"]["mark_id"] for e in events if e["type"] == "mark.recorded"}
    for fault in simulation.faults:
        if fault.lesson_id and fault.rule != "program.behind_plan":
            assert fault.lesson_id in lesson_ids, fault
        if fault.mark_id:
            assert fault.mark_id in mark_ids, fault


def test_ground_truth_round_trips_through_csv(tmp_path: Any) -> None:
    _, simulation = run(5, "default", 10.0)
    buffer = io.StringIO()
    assert write_ground_truth(simulation.faults, buffer) == len(simulation.faults)
    path = tmp_path / "truth.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert read_ground_truth(path) == simulation.faults


def test_clean_school_keeps_the_basic_rules() -> None:
    """A few of the checker's rules, recomputed here from the raw events of a clean school."""
    events, simulation = run(5, "none")
    zone = simulation.zone
    lessons: dict[str, dict[str, Any]] = {}
    first_entry: dict[str, date] = {}
    sheets: dict[str, date] = {}
    marks_by: dict[tuple[str, str], list[str]] = defaultdict(list)
    for event in events:
        data, at = event["data"], datetime.fromisoformat(event["occurred_at"]).astimezone(zone)
        if event["type"] == "lesson.recorded":
            lessons[data["lesson_id"]] = data
            first_entry.setdefault(data["lesson_id"], at.date())
        elif event["type"] == "lesson.deleted":
            lessons.pop(data["lesson_id"], None)
        elif event["type"] == "attendance.recorded":
            sheets.setdefault(data["lesson_id"], at.date())
        elif event["type"] == "mark.recorded" and data["kind"] == "current":
            assert data["value"] in {"2", "3", "4", "5"}
            assert data["work_type"] is not None
            marks_by[(data["student_id"], data["subject_id"])].append(data["value"])
    outage_day = simulation._outages[0][0].date()
    for lesson_id, lesson in lessons.items():
        day = date.fromisoformat(lesson["date"])
        assert lesson["topic"] and lesson["homework"], lesson_id
        if day != outage_day:
            assert first_entry[lesson_id] == day, lesson_id
            assert sheets[lesson_id] == day, lesson_id
        assert (lesson["teacher_id"] == lesson["scheduled_teacher_id"]) or \
            lesson["is_substitution"]
    rostered = {s["student_id"] for e in events if e["type"] == "class.roster"
                and e["data"]["grade"] >= 2 for s in e["data"]["students"]}
    for (student_id, _subject), values in marks_by.items():
        if student_id in rostered:
            assert len(values) >= 3


def test_shuffling_and_duplicates_are_as_asked() -> None:
    events = [{"id": f"e{i}", "n": i} for i in range(5000)]
    in_order = list(arrange(events, seed=1))
    assert in_order == events
    shuffled = list(arrange(events, seed=1, shuffle_window=200))
    assert sorted(e["n"] for e in shuffled) == list(range(5000))
    assert shuffled != events
    assert max(abs(e["n"] - i) for i, e in enumerate(shuffled)) < 5000  # local, not global
    repeated = list(arrange(events, seed=1, duplicate_share=0.1))
    counts = Counter(e["id"] for e in repeated)
    twice = sum(1 for c in counts.values() if c == 2)
    assert set(counts.values()) <= {1, 2}
    assert 400 <= twice <= 600
    assert list(arrange(events, seed=1, duplicate_share=0.1)) == repeated  # seeded


def test_batches_respect_count_and_size() -> None:
    big = [{"id": f"e{i}", "pad": "x" * 5000} for i in range(1000)]
    groups = list(batches(big, 500))
    assert sum(len(g) for g in groups) == 1000
    assert all(len(orjson.dumps({"events": g})) < 1024 * 1024 for g in groups)
    assert [len(g) for g in batches(big[:10], 4)] == [4, 4, 2]


@pytest.mark.parametrize("rule", ["final_mark.inconsistent", "program.behind_plan"])
def test_single_rule_rates_plant_only_that_rule(rule: str) -> None:
    school = generate_school(11, **SMALL)  # type: ignore[arg-type]
    rates = FaultRates.none().with_rates(**{rule: 0.5})
    simulation = Simulation(school, rates, seed=11, terms=(1,))
    for _ in simulation.events():
        pass
    assert simulation.faults
    assert {fault.rule for fault in simulation.faults} == {rule}


def test_kozomol_simulate_writes_events_and_ground_truth(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from kozomol.cli import main
    from kozomol.simulator.delivery import read_jsonl

    events, truth = tmp_path / "events.jsonl.gz", tmp_path / "truth.csv"
    result = CliRunner().invoke(main, [
        "simulate", "--seed", "2", "--schools", "2", "--parallels", "1", "--grades", "5-6",
        "--output", str(events), "--truth", str(truth), "--duplicates", "0.05",
        "--shuffle-window", "100"])
    assert result.exit_code == 0, result.output
    written = list(read_jsonl(events))
    # (a nationwide outage comes once, as school "*", whichever schools it concerns)
    assert {e["school_id"] for e in written} - {"*"} == {"sch0001", "sch0002"}
    assert {e["type"] for e in written if e["school_id"] == "*"} <= {"platform.outage"}
    counts = Counter(e["id"] for e in written)
    assert any(c == 2 for c in counts.values())
    planted = read_ground_truth(truth)
    assert {f.school_id for f in planted} <= {"sch0001", "sch0002"}
    assert len({f.key() for f in planted}) == len(planted)
