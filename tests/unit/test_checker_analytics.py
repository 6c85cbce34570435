"""The academic results reports (issue 18), made the way the service makes them (facts
folded, a sweep storing the students' results, the report summed from them).

Two checks: a hand-made class whose figures are worked out on paper below, and a
simulated school (with leavers, joiners, exemptions, repeated term marks and "н/а"
added to its events) recounted from the raw events by an independent, obvious
implementation written from the issue's definitions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from itertools import count
from pathlib import Path
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.adapters import facts_store
from services.checker.adapters.tables import metadata
from services.checker.domain.facts import SchoolFacts
from services.checker.domain.reports import ReportError
from services.checker.domain.rules import evaluate
from services.checker.handlers import sweep
from services.checker.reporting import make_report
from services.gateway.domain.report_requests import request_errors
from shared.events.envelope import Event

ZONE = ZoneInfo("Asia/Bishkek")
Q1, Q2, YEAR = "2026-2027-q1", "2026-2027-q2", "2026-2027-y"


def folded(events: list[dict[str, Any]], at: datetime) -> Engine:
    made = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(made)
    with made.begin() as connection:
        facts_store.ingest(connection, [
            Event(e["id"], e["type"], e["school_id"], datetime.fromisoformat(e["occurred_at"]),
                  e["data"]) for e in events])
    sweep(made, lambda: at)
    return made


def rows_by(report: dict[str, Any], key: str, table: str = "rows") -> dict[Any, dict[str, Any]]:
    found = next(t for t in report["tables"] if t["name"] == table)
    return {row[key]: row for row in found["rows"]}


# A hand-made school -----------------------------------------------------------------------
class HandMade:
    """Class 5a (math by t-m, PE by t-p) and 5b (math by t-m), grade 5.

    5a's roster: s1-s5 at the start; on 20.09 s5 leaves and s6 joins; on 12.11 s7
    joins. s4 is exempt from PE for the whole first quarter.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids = count(1)

    def add(self, kind: str, at: str, data: dict[str, Any]) -> None:
        self.events.append({"id": f"e{next(self.ids):05d}", "type": kind, "school_id": "hand",
                            "occurred_at": f"{at}T10:00:00+06:00", "data": data})

    def roster(self, class_id: str, at: str, students: list[str]) -> None:
        self.add("class.roster", at, {
            "class_id": class_id, "academic_year": "2026-2027", "grade": 5,
            "homeroom_teacher_id": "t-m",
            "students": [{"student_id": s, "full_name": s, "subgroups": {}} for s in students]})

    def plan(self, class_id: str, subject_id: str, name: str, teacher: str, *, term: str,
             day: str) -> None:
        self.add("subject.plan", "2026-08-28", {
            "class_id": class_id, "subject_id": subject_id, "subject_name": name,
            "subgroup": None, "teacher_id": teacher, "term_id": term,
            "lessons": [{"number": 1, "planned_date": day, "topic": "Тема"}]})

    def current(self, class_id: str, student: str, subject: str, day: str,
                values: list[int]) -> None:
        for value in values:
            number = next(self.ids)
            self.add("mark.recorded", day, {
                "mark_id": f"m{number}", "student_id": student, "class_id": class_id,
                "subject_id": subject, "teacher_id": "t-m" if subject == "math" else "t-p",
                "lesson_id": None, "date": day, "value": str(value), "work_type": "oral",
                "kind": "current", "term_id": None})

    def final(self, class_id: str, student: str, subject: str, term: str, value: str, *,
              at: str = "2026-10-30", mark_id: str | None = None) -> None:
        self.add("mark.recorded", at, {
            "mark_id": mark_id or f"{student}-{subject}-{term}", "student_id": student,
            "class_id": class_id, "subject_id": subject,
            "teacher_id": "t-m" if subject == "math" else "t-p", "lesson_id": None,
            "date": at, "value": value, "work_type": None, "kind": "quarter", "term_id": term})


@cache
def hand_made() -> tuple[dict[str, Any], ...]:
    school = HandMade()
    school.add("school.calendar", "2026-08-25", {
        "academic_year": "2026-2027", "timezone": "Asia/Bishkek",
        "language_of_instruction": "ru", "weekend": ["sun"], "holidays": [], "terms": [
            {"id": Q1, "kind": "quarter", "number": 1, "start": "2026-09-01",
             "end": "2026-10-31"},
            {"id": Q2, "kind": "quarter", "number": 2, "start": "2026-11-10",
             "end": "2026-12-29"},
            {"id": YEAR, "kind": "year", "number": 1, "start": "2026-09-01",
             "end": "2027-05-25"}]})
    for teacher, name in (("t-m", "Математикова Анна"), ("t-p", "Физкультуров Бакыт")):
        school.add("teacher.profile", "2026-08-25", {"teacher_id": teacher, "full_name": name})
    school.roster("5a", "2026-08-26", ["s1", "s2", "s3", "s4", "s5"])
    school.roster("5a", "2026-09-20", ["s1", "s2", "s3", "s4", "s6"])  # s5 left, s6 joined
    school.roster("5a", "2026-11-12", ["s1", "s2", "s3", "s4", "s6", "s7"])  # s7 joined
    school.roster("5b", "2026-08-26", ["b1", "b2"])
    for term, day in ((Q1, "2026-09-02"), (Q2, "2026-11-11")):
        school.plan("5a", "math", "Математика", "t-m", term=term, day=day)
        school.plan("5a", "pe", "Физическая культура", "t-p", term=term, day=day)
        school.plan("5b", "math", "Математика", "t-m", term=term, day=day)
    school.add("exemption.recorded", "2026-09-01", {
        "student_id": "s4", "subject_id": "pe", "from": "2026-09-01", "to": "2026-10-31",
        "reason": "справка"})
    # First quarter: current marks, then the term marks.
    for student, values in (("s1", [5, 5, 4]), ("s2", [3, 3, 4]), ("s3", [4, 4]),
                            ("s4", [2, 3, 3]), ("s5", [5])):
        school.current("5a", student, "math", "2026-09-15", values)
    for student, values in (("s1", [5, 5]), ("s2", [5]), ("s3", [4]), ("s6", [4])):
        school.current("5a", student, "pe", "2026-10-05", values)
    for student, value in (("s1", "5"), ("s3", "3"), ("s4", "2"), ("s5", "5"), ("s6", "н/а"),
                           ("s7", "5")):  # s5 left, s7 not there yet: not counted
        school.final("5a", student, "math", Q1, value)
    # Kundoluk repeats a term mark under another id: the newest entry is the mark.
    school.final("5a", "s2", "math", Q1, "3", at="2026-10-29", mark_id="dup-1")
    school.final("5a", "s2", "math", Q1, "4", at="2026-10-30", mark_id="dup-2")
    for student, value in (("s1", "5"), ("s2", "5"), ("s3", "4"), ("s6", "4")):
        school.final("5a", student, "pe", Q1, value)
    school.current("5b", "b1", "math", "2026-09-15", [5, 5])
    school.current("5b", "b2", "math", "2026-09-15", [3, 3])
    school.final("5b", "b1", "math", Q1, "5")
    school.final("5b", "b2", "math", Q1, "3")
    # Second quarter, in progress on 20.11: current marks only.
    for student, values in (("s1", [5, 4]), ("s2", [3, 4]), ("s4", [2]), ("s6", [4, 4, 3]),
                            ("s7", [5])):
        school.current("5a", student, "math", "2026-11-16", values)
    for student, values in (("s1", [5]), ("s2", [5, 5]), ("s3", [3])):
        school.current("5a", student, "pe", "2026-11-16", values)
    return tuple(school.events)


HAND_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ZONE)


@cache
def hand_engine() -> Engine:
    return folded(list(hand_made()), HAND_NOW)


def hand(kind: str, scope: dict[str, Any] | None = None, **parameters: Any) -> dict[str, Any]:
    with hand_engine().connect() as connection:
        return make_report(connection, "hand", kind, parameters, scope=scope,
                           now=HAND_NOW).as_dict()


def test_a_hand_made_class_by_class_worked_out_on_paper() -> None:
    made = hand("academic_results", term_id=Q1)
    assert made["parameters"]["basis"] == "final"  # the quarter is over
    row = rows_by(made, "class_id")["5a"]
    # Counted on 31.10: s1 s2 s3 s4 s6 (s5 left on 20.09, s7 joined after the quarter).
    #   s1: math 5, PE 5  -> отличник
    #   s2: math 4 (the newer of 3 and 4), PE 5 -> хорошист
    #   s3: math 3, PE 4  -> one "3"
    #   s4: math 2, PE exempt -> неуспевающий
    #   s6: math н/а, PE 4 -> н/а
    # успеваемость 3/5, качество 2/5;
    # СОУ (100+100 + 64+100 + 36+64 + 16 + 7+64) / 9 marks = 551/9 = 61.22 %;
    # средний балл (5+5+4+5+3+4+2+4) / 8 = 4.0 ("н/а" is no number).
    assert row["students"] == 5
    assert row["success_rate"] == 0.6 and row["quality_rate"] == 0.4
    assert row["sou_rate"] == 0.6122 and row["mean_mark"] == 4.0
    assert (row["excellent"], row["good"], row["one_three"], row["failing"],
            row["not_assessed"]) == (1, 1, 1, 1, 1)
    assert (row["missing"], row["exempt"], row["left"]) == (0, 1, 1)
    assert row["success_change"] is None  # no earlier quarter


def test_a_hand_made_class_by_subject_teacher_and_parallel() -> None:
    subjects = rows_by(hand("academic_results", term_id=Q1, by="subject", class_id="5a"),
                       "subject_id")
    # Math in 5a: 5, 4, 3, 2, н/а -> 3/5 successful, 2/5 quality, СОУ 223/5 = 44.6 %,
    # mean (5+4+3+2)/4 = 3.5.
    math = subjects["math"]
    assert (math["students"], math["success_rate"], math["quality_rate"], math["sou_rate"],
            math["mean_mark"]) == (5, 0.6, 0.4, 0.446, 3.5)
    assert (math["excellent"], math["good"], math["one_three"], math["failing"],
            math["not_assessed"], math["left"]) == (1, 1, 1, 1, 1, 1)
    # PE: 5, 5, 4, 4 (s4 exempt) -> all successful and good, СОУ 328/4 = 82 %, mean 4.5.
    pe = subjects["pe"]
    assert (pe["students"], pe["success_rate"], pe["quality_rate"], pe["sou_rate"],
            pe["mean_mark"], pe["excellent"], pe["good"], pe["exempt"]) == (
        4, 1.0, 1.0, 0.82, 4.5, 2, 2, 1)
    teachers = rows_by(hand("academic_results", term_id=Q1, by="teacher"), "teacher_id")
    # t-m teaches math in 5a and 5b: 5a's five students and b1 (5), b2 (3).
    assert teachers["t-m"]["students"] == 7 and teachers["t-m"]["teacher"] == \
        "Математикова Анна"
    assert teachers["t-m"]["success_rate"] == round(5 / 7, 4)
    assert teachers["t-m"]["mean_mark"] == round((5 + 4 + 3 + 2 + 5 + 3) / 6, 2)
    assert teachers["t-p"]["students"] == 4
    parallel = hand("academic_results", term_id=Q1, by="parallel")
    fifth = rows_by(parallel, "grade")[5]
    # 5a's five students and 5b's: b1 (5: отличник), b2 (3: one "3").
    assert (fifth["students"], fifth["classes"], fifth["excellent"], fifth["good"],
            fifth["one_three"], fifth["failing"], fifth["not_assessed"]) == (7, 2, 2, 1, 2, 1, 1)
    assert fifth["success_rate"] == round(5 / 7, 4) and fifth["quality_rate"] == round(3 / 7, 4)


def test_a_term_in_progress_is_reckoned_from_current_marks_and_says_so() -> None:
    made = hand("academic_results", term_id=Q2)
    assert made["parameters"]["basis"] == "current"
    assert dict(made["summary"])["Основа"].startswith("текущие отметки")
    row = rows_by(made, "class_id")["5a"]
    # Counted on 20.11: s1 s2 s3 s4 s6 s7; s4's exemption ended with the first quarter.
    # Each mark is the rounded mean (half up) of the quarter's current marks; none: н/а.
    #   s1: math (5,4) 5, PE 5      -> отличник
    #   s2: math (3,4) 4, PE (5,5) 5 -> хорошист
    #   s3: math н/а, PE 3          -> н/а
    #   s4: math 2, PE н/а          -> неуспевающий, н/а
    #   s6: math (4,4,3) 4, PE н/а  -> н/а
    #   s7: math 5, PE н/а          -> н/а (joined on 12.11: counted)
    # СОУ (200 + 164 + 43 + 23 + 71 + 107) / 12 = 608/12 = 50.67 %;
    # mean (5+5+4+5+3+2+4+5)/8 = 4.125 -> 4.13 (rounded half up).
    assert (row["students"], row["success_rate"], row["quality_rate"], row["sou_rate"],
            row["mean_mark"]) == (6, 0.3333, 0.3333, 0.5067, 4.13)
    assert (row["excellent"], row["good"], row["one_three"], row["failing"],
            row["not_assessed"], row["exempt"], row["left"]) == (1, 1, 0, 1, 4, 0, 0)
    # The same basis for the quarter before: the change is against Q1's current marks.
    # Q1 from current marks: s1 (5,5,4)->5, PE 5; s2 3, 5; s3 4, 4; s4 3 (PE exempt);
    # s6 н/а (no math marks), 4 -> successful s1 s2 s3 s4 = 4/5 = 80 % -> -46.7 p.p.
    assert row["success_change"] == -46.7
    lines = rows_by(made, "term_id", "terms")
    assert list(lines) == [Q1, Q2] and lines[Q2]["success_rate"] == 0.25  # 5b: no mark yet
    # By term marks instead, Q2 has none yet: every counted pair is missing.
    final = rows_by(hand("academic_results", term_id=Q2, basis="final"), "class_id")["5a"]
    assert final["students"] == 0 and final["missing"] == 12 and final["success_rate"] is None


def test_objectivity_of_the_hand_made_class() -> None:
    made = hand("marks_objectivity", term_id=Q1)
    teachers = {(r["teacher_id"], r["class_id"], r["subject_id"]): r
                for r in next(t for t in made["tables"] if t["name"] == "teachers")["rows"]}
    math = teachers[("t-m", "5a", "math")]
    # s1 5 vs mean 4.67 (rounds to 5): agrees; s2 4 vs 3.33 (3): above;
    # s3 3 vs 4: below; s4 2 vs 2.67 (3): below; s6 "н/а" is not a grade.
    assert (math["marks"], math["final_mean"], math["current_mean"], math["difference"],
            math["above"], math["below"], math["inconsistent_share"]) == (
        4, 3.5, 3.67, -0.17, 1, 2, 0.75)
    assert teachers[("t-p", "5a", "pe")]["inconsistent_share"] == 0.0
    # The rule final_mark.inconsistent finds the same three.
    facts = SchoolFacts("hand")
    for e in hand_made():
        facts.apply(e["id"], e["type"], datetime.fromisoformat(e["occurred_at"]), e["data"])
    found = [f for f in evaluate(facts, HAND_NOW) if f.rule == "final_mark.inconsistent"
             and f.term_id == Q1]
    assert sorted(f.student_id or "" for f in found) == ["s2", "s3", "s4"]
    # 5a's math against the 5th grades' math: finals 3.5 against (5+4+3+2+5+3)/6 = 3.67;
    # current marks 40/11 = 3.64 against 56/15 = 3.73.
    drift = {(r["class_id"], r["subject_id"]): r
             for r in next(t for t in made["tables"] if t["name"] == "drift")["rows"]}
    row = drift[("5a", "math")]
    assert (row["classes"], row["final_mean"], row["parallel_final_mean"], row["final_drift"],
            row["current_mean_all"], row["parallel_current_mean"], row["current_drift"],
            row["drift_gap"]) == (2, 3.5, 3.67, -0.17, 3.64, 3.73, -0.09, -0.08)
    classes = rows_by(made, "class_id", "classes")
    assert classes["5b"]["final_mean"] == 4.0 and classes["5b"]["inconsistent_share"] == 0.0
    assert next(t for t in made["tables"] if t["name"] == "classes")["chart"]["type"] == "bar"


def test_a_teacher_sees_only_their_own_pairs() -> None:
    mine = hand("academic_results", {"role": "teacher", "teacher_id": "t-p"}, term_id=Q1,
                by="class")
    row = rows_by(mine, "class_id")["5a"]
    assert set(rows_by(mine, "class_id")) == {"5a"}  # no PE in 5b
    assert (row["students"], row["exempt"], row["mean_mark"]) == (4, 1, 4.5)  # PE only
    with pytest.raises(ReportError, match="вне вашей области"):
        hand("academic_results", {"role": "teacher", "teacher_id": "t-p"}, teacher_id="t-m")


def test_bad_parameters_are_refused_with_the_field_or_a_russian_reason() -> None:
    errors, _ = request_errors({"kind": "academic_results", "parameters": {"by": "planet"}})
    assert "by" in errors["parameters"]
    errors, _ = request_errors({"kind": "academic_results", "parameters": {"basis": "guess"}})
    assert "basis" in errors["parameters"]
    errors, loaded = request_errors({"kind": "marks_objectivity",
                                     "parameters": {"class_id": "5a"}})
    assert not errors and loaded == {"class_id": "5a"}
    with pytest.raises(ReportError, match="нет периода"):
        hand("academic_results", term_id="2030-q9")
    with pytest.raises(ReportError, match="нет класса"):
        hand("marks_objectivity", class_id="9z")


# A simulated school, recounted from the raw events ---------------------------------------
SPEC = SimulationSpec(seed=11, parallels=2, grades=(5, 9), terms=(1, 2),
                      rates=FaultRates.default(3.0))


@cache
def simulated() -> tuple[dict[str, Any], ...]:
    """The simulator's school with real schools' cases added by hand: in 5a a student
    leaves during Q1 and another joins (with marks of their own), one leaves after Q1;
    a term mark becomes "н/а"; one is sent again under another id with another value."""
    events = list(school_events(SPEC))
    rosters = [e for e in events if e["type"] == "class.roster" and e["data"]["class_id"] == "5a"]
    first = rosters[0]["data"]
    students = [s["student_id"] for s in first["students"]]
    leaver, after_q1 = students[0], students[1]
    added: list[dict[str, Any]] = []

    def roster(at: str, ids: list[str], number: int) -> None:
        pupils = [s for s in first["students"] if s["student_id"] in ids]
        if "sch0001-new" in ids:
            pupils.append({"student_id": "sch0001-new", "full_name": "Новикова Алина",
                           "subgroups": dict(first["students"][0].get("subgroups", {}))})
        added.append({"id": f"sch0001-x{number:05d}", "type": "class.roster",
                      "school_id": "sch0001", "occurred_at": at,
                      "data": {**first, "students": pupils}})

    roster("2026-09-21T09:00:00+06:00", [*students[1:], "sch0001-new"], 1)
    roster("2026-11-16T09:00:00+06:00", [*students[2:], "sch0001-new"], 2)
    q1_marks = [e for e in events if e["type"] == "mark.recorded"
                and e["data"]["kind"] == "quarter" and e["data"]["class_id"] == "5a"
                and e["data"]["term_id"] == "2026-2027-q1"]
    for n, event in enumerate(e for e in q1_marks if e["data"]["student_id"] == leaver):
        copy = {**event["data"], "student_id": "sch0001-new",
                "mark_id": f"new-{n}", "value": "5"}
        added.append({**event, "id": f"sch0001-x{100 + n:05d}", "data": copy})
    q1_curr = [e for e in events if e["type"] == "mark.recorded"
               and e["data"]["kind"] == "current" and e["data"]["student_id"] == leaver
               and e["data"]["date"] >= "2026-09-21" and e["data"]["date"] <= "2026-10-31"]
    for n, event in enumerate(q1_curr):
        added.append({**event, "id": f"sch0001-x{1000 + n:05d}",
                      "data": {**event["data"], "student_id": "sch0001-new",
                               "mark_id": f"new-c{n}"}})
    na, again = q1_marks[5], q1_marks[7]
    added.append({**na, "id": "sch0001-x09001", "occurred_at": "2026-11-01T10:00:00+06:00",
                  "data": {**na["data"], "value": "н/а"}})
    added.append({**again, "id": "sch0001-x09002", "occurred_at": "2026-11-01T11:00:00+06:00",
                  "data": {**again["data"], "mark_id": "repeated",
                           "value": "2" if again["data"]["value"] != "2" else "5"}})
    assert after_q1 != leaver
    return tuple(events + added)


@cache
def sim_engine() -> Engine:
    return folded(list(simulated()), judged_at(SPEC))


def sim(kind: str, scope: dict[str, Any] | None = None, **parameters: Any) -> dict[str, Any]:
    with sim_engine().connect() as connection:
        return make_report(connection, "sch0001", kind, parameters, scope=scope,
                           now=judged_at(SPEC)).as_dict()


class Recount:
    """The figures straight from the events, the obvious way (no checker code)."""

    def __init__(self, events: tuple[dict[str, Any], ...]) -> None:
        latest: dict[tuple[str, str], tuple[str, str, dict[str, Any], str]] = {}
        self.rosters: dict[str, list[tuple[date, str, list[str], int]]] = defaultdict(list)
        self.exemptions: list[dict[str, Any]] = []
        self.plans: dict[tuple[str, str, str | None, str], str] = {}
        self.subgroups: dict[tuple[str, str], str] = {}
        for e in events:
            data, kind = e["data"], e["type"]
            if kind == "school.calendar":
                self.terms = {t["id"]: (date.fromisoformat(t["start"]),
                                        date.fromisoformat(t["end"]), t["kind"])
                              for t in data["terms"]}
            elif kind == "class.roster":
                entered = datetime.fromisoformat(e["occurred_at"]).astimezone(ZONE).date()
                self.rosters[data["class_id"]].append(
                    (entered, e["id"], [s["student_id"] for s in data["students"]],
                     data["grade"]))
                for s in data["students"]:
                    for subject, group in s.get("subgroups", {}).items():
                        self.subgroups[(s["student_id"], subject)] = group
            elif kind == "exemption.recorded":
                self.exemptions.append(data)
            elif kind == "subject.plan":
                self.plans[(data["class_id"], data["subject_id"], data.get("subgroup"),
                            data["term_id"])] = data["teacher_id"]
            for entity, id_key in (("mark", "mark_id"), ("lesson", "lesson_id")):
                if kind in (f"{entity}.recorded", f"{entity}.deleted"):
                    key = (entity, data[id_key])
                    stamp = (e["occurred_at"], e["id"])
                    known = latest.get(key)
                    if known is None or (datetime.fromisoformat(stamp[0]), stamp[1]) > (
                            datetime.fromisoformat(known[0]), known[1]):
                        latest[key] = (stamp[0], stamp[1], data, kind)
        self.lessons = [d for (entity, _), (_, _, d, kind) in latest.items()
                        if entity == "lesson" and kind == "lesson.recorded"]
        marks = [(at, eid, d) for (entity, _), (at, eid, d, kind) in latest.items()
                 if entity == "mark" and kind == "mark.recorded"]
        self.current: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for _, _, d in marks:
            if d["kind"] == "current":
                self.current[(d["student_id"], d["subject_id"], d["class_id"])].append(d)
        self.finals: dict[tuple[str, str, str], dict[str, Any]] = {}
        newest: dict[tuple[str, str, str], tuple[datetime, str]] = {}
        for at, eid, d in marks:
            if d["kind"] != "current" and d.get("term_id"):
                key = (d["student_id"], d["subject_id"], d["term_id"])
                stamp = (datetime.fromisoformat(at), eid)
                if key not in newest or stamp > newest[key]:
                    newest[key], self.finals[key] = stamp, d
        for snapshots in self.rosters.values():
            snapshots.sort()

    def members(self, class_id: str, day: date) -> set[str]:
        snapshots = self.rosters[class_id]
        chosen = snapshots[0][2]
        for entered, _, students, _ in snapshots:
            if entered <= day:
                chosen = students
        return set(chosen)

    def grade(self, class_id: str) -> int:
        return self.rosters[class_id][-1][3]

    def ever(self, class_id: str, start: date, end: date) -> set[str]:
        found = self.members(class_id, start)
        for entered, _, students, _ in self.rosters[class_id]:
            if start <= entered <= end:
                found |= set(students)
        return found

    def taught(self, class_id: str, term_id: str) -> dict[tuple[str, str | None], str]:
        start, end, _ = self.terms[term_id]
        found: dict[tuple[str, str | None], str] = {}
        for d in sorted(self.lessons, key=lambda d: (d["date"], d["period"], d["lesson_id"])):
            if d["class_id"] == class_id and start <= date.fromisoformat(d["date"]) <= end:
                found[(d["subject_id"], d.get("subgroup"))] = d["teacher_id"]
        for (c, subject, group, t), teacher in self.plans.items():
            if c == class_id and t == term_id:
                found[(subject, group)] = teacher
        return found

    def exempt(self, student: str, class_id: str, subject: str, group: str | None,
               term_id: str) -> bool:
        start, end, _ = self.terms[term_id]
        spans = [(date.fromisoformat(x["from"]), date.fromisoformat(x["to"]))
                 for x in self.exemptions if (x["student_id"], x["subject_id"]) == (student,
                                                                                    subject)]
        if not spans:
            return False
        days = [date.fromisoformat(d["date"]) for d in self.lessons
                if (d["class_id"], d["subject_id"], d.get("subgroup")) == (class_id, subject,
                                                                           group)
                and start <= date.fromisoformat(d["date"]) <= end]
        if not days:
            return any(a <= start and b >= end for a, b in spans)
        return all(any(a <= day <= b for a, b in spans) for day in days)

    @cache  # noqa: B019 - one Recount per test session
    def pairs(self, term_id: str, today: date, basis: str) -> list[dict[str, Any]]:
        """Every (student, subject) of every class for the term, with its mark."""
        start, end, _ = self.terms[term_id]
        until = min(end, today)
        made = []
        for class_id in sorted(self.rosters):
            members = self.members(class_id, until)
            left = self.ever(class_id, start, until) - members
            for (subject, group), teacher in self.taught(class_id, term_id).items():
                for student in members | left:
                    if group is not None and self.subgroups.get((student, subject)) != group:
                        continue
                    values = [int(m["value"]) for m in self.current[(student, subject,
                                                                      class_id)]
                              if m["value"] in "2345"
                              and len(m["value"]) == 1
                              and start <= date.fromisoformat(m["date"]) <= end]
                    final = self.finals.get((student, subject, term_id))
                    if basis == "final":
                        value = final["value"] if final and final["value"] in (
                            "2", "3", "4", "5", "н/а") else None
                    else:
                        value = str(int(Decimal(sum(values) / len(values)).quantize(
                            Decimal(1), rounding=ROUND_HALF_UP))) if values else "н/а"
                    made.append({
                        "class_id": class_id, "grade": self.grade(class_id),
                        "subject_id": subject, "teacher_id": teacher, "student": student,
                        "left": student in left,
                        "exempt": self.exempt(student, class_id, subject, group, term_id),
                        "value": value, "values": values,
                        "final": final["value"] if final else None})
        return made


def figures(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's definitions, written out plainly."""
    counted = [p for p in pairs if not p["left"] and not p["exempt"]]
    marks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in counted:
        if p["value"] is not None:
            marks[(p["class_id"], p["student"])].append(p["value"])
    students = list(marks.values())
    every = [v for values in students for v in values]
    weights = {"5": 100, "4": 64, "3": 36, "2": 16, "н/а": 7}
    numbers = [int(v) for v in every if v != "н/а"]

    def share(n: int, of: int) -> float | None:
        return round(n / of, 4) if of else None

    return {
        "students": len(students),
        "success_rate": share(sum(all(v in "345" for v in s) for s in students), len(students)),
        "quality_rate": share(sum(all(v in "45" for v in s) for s in students), len(students)),
        "sou_rate": share(sum(weights[v] for v in every), 100 * len(every)),
        "mean_mark": float(Decimal(repr(fmean(numbers))).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)) if numbers else None,
        "excellent": sum(all(v == "5" for v in s) for s in students),
        "good": sum(all(v in "45" for v in s) and "4" in s for s in students),
        "one_three": sum(s.count("3") == 1 and all(v in "345" for v in s) for s in students),
        "failing": sum("2" in s for s in students),
        "not_assessed": sum("н/а" in s for s in students),
        "missing": sum(1 for p in counted if p["value"] is None),
        "exempt": sum(1 for p in pairs if p["exempt"] and not p["left"]),
        "left": len({(p["class_id"], p["student"]) for p in pairs if p["left"]}),
    }


FIGURES = ("students", "success_rate", "quality_rate", "sou_rate", "mean_mark", "excellent",
           "good", "one_three", "failing", "not_assessed", "missing", "exempt", "left")


def close(made: dict[str, Any], expected: dict[str, Any]) -> None:
    for name in FIGURES:
        got, want = made[name], expected[name]
        if isinstance(want, float):
            assert got == pytest.approx(want, abs=0.0051 if name == "mean_mark" else 0.00011), \
                name
        else:
            assert got == want, name


@cache
def recount() -> Recount:
    return Recount(simulated())


@pytest.mark.parametrize("by", ["class", "subject", "teacher", "parallel"])
@pytest.mark.parametrize("term_id,basis", [(Q1, "final"), (Q2, "final"), (Q2, "current")])
def test_every_figure_of_a_simulated_school_recounted_from_the_events(
        by: str, term_id: str, basis: str) -> None:
    today = judged_at(SPEC).astimezone(ZONE).date()
    pairs = recount().pairs(term_id, today, basis)
    key = {"class": "class_id", "subject": "subject_id", "teacher": "teacher_id",
           "parallel": "grade"}[by]
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for pair in pairs:
        groups[pair[key]].append(pair)
    made = rows_by(sim("academic_results", term_id=term_id, by=by, basis=basis), key)
    assert set(made) == set(groups)
    for name, group in groups.items():
        close(made[name], figures(group))
    if term_id == Q2:  # the change against Q1, on the same basis
        before: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for pair in recount().pairs(Q1, today, basis):
            before[pair[key]].append(pair)
        for name, row in made.items():
            was, now = figures(before[name]), figures(groups[name])
            if was["success_rate"] is not None and now["success_rate"] is not None:
                assert row["success_change"] == pytest.approx(
                    (now["success_rate"] - was["success_rate"]) * 100, abs=0.051)


def test_the_simulated_school_has_the_cases_that_matter() -> None:
    """The recount above would prove little if the school had none of these."""
    today = judged_at(SPEC).astimezone(ZONE).date()
    q1 = figures(recount().pairs(Q1, today, "final"))
    q2 = figures(recount().pairs(Q2, today, "final"))
    assert q1["left"] >= 1 and q2["left"] >= 1  # (the test adds leavers; the simulator too)
    assert q1["exempt"] > 0 and q1["not_assessed"] > 0 and q1["failing"] > 0
    assert q1["one_three"] > 0 and q1["good"] > 0
    joined = rows_by(sim("academic_results", term_id=Q1, by="class", class_id="5a"),
                     "class_id")["5a"]
    assert joined["left"] == 1
    whole = rows_by(sim("academic_results", term_id=Q1), "class_id")
    assert sum(r["students"] for r in whole.values()) == q1["students"]


def test_the_year_from_current_marks_recounted() -> None:
    today = judged_at(SPEC).astimezone(ZONE).date()
    made = sim("academic_results", term_id=YEAR, by="class", basis="current")
    pairs = recount().pairs(YEAR, today, "current")
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pair in pairs:
        groups[pair["class_id"]].append(pair)
    rows = rows_by(made, "class_id")
    assert set(rows) == set(groups)
    for class_id, group in groups.items():
        close(rows[class_id], figures(group))


def test_objectivity_of_a_simulated_school_is_the_rule_aggregated_and_recounted() -> None:
    made = sim("marks_objectivity", term_id=Q1)
    facts = SchoolFacts("sch0001")
    for e in simulated():
        facts.apply(e["id"], e["type"], datetime.fromisoformat(e["occurred_at"]), e["data"])
    inconsistent: dict[tuple[str, str, str], int] = defaultdict(int)
    for finding in evaluate(facts, judged_at(SPEC)):
        if finding.rule == "final_mark.inconsistent" and finding.term_id == Q1:
            inconsistent[(finding.teacher_id or "", finding.class_id or "",
                          finding.subject_id or "")] += 1
    rows = next(t for t in made["tables"] if t["name"] == "teachers")["rows"]
    assert sum(inconsistent.values()) > 0
    for row in rows:
        assert row["above"] + row["below"] == inconsistent.get(
            (row["teacher_id"], row["class_id"], row["subject_id"]), 0), row
    assert sum(r["above"] + r["below"] for r in rows) == sum(inconsistent.values())
    # Means recounted: per class and subject against the parallel.
    today = judged_at(SPEC).astimezone(ZONE).date()
    assessed = [p for p in recount().pairs(Q1, today, "final")
                if not p["left"] and not p["exempt"] and p["final"] in ("2", "3", "4", "5")
                and p["values"]]
    drift = {(r["class_id"], r["subject_id"], r["teacher_id"]): r
             for r in next(t for t in made["tables"] if t["name"] == "drift")["rows"]}
    for (class_id, subject_id, teacher_id), row in drift.items():
        mine = [int(p["final"]) for p in assessed
                if (p["class_id"], p["subject_id"], p["teacher_id"]) == (class_id, subject_id,
                                                                         teacher_id)]
        grade = recount().grade(class_id)
        theirs = [int(p["final"]) for p in assessed
                  if (p["grade"], p["subject_id"]) == (grade, subject_id)]
        assert row["final_mean"] == pytest.approx(fmean(mine), abs=0.0051)
        assert row["parallel_final_mean"] == pytest.approx(fmean(theirs), abs=0.0051)
        assert row["final_drift"] == pytest.approx(fmean(mine) - fmean(theirs), abs=0.011)
    assert any(r["final_drift"] not in (0, None) for r in drift.values())


def test_scheduled_sweeps_keep_the_results_current() -> None:
    """A later sweep with a new term mark changes the stored results (only that class)."""
    events = list(hand_made())
    engine = folded(events, HAND_NOW)
    before = rows_by(hand("academic_results", term_id=Q1), "class_id")["5b"]
    with engine.begin() as connection:
        facts_store.ingest(connection, [Event(
            "e99999", "mark.recorded", "hand", HAND_NOW - timedelta(hours=1), {
                "mark_id": "b2-math-2026-2027-q1-again", "student_id": "b2", "class_id": "5b",
                "subject_id": "math", "teacher_id": "t-m", "lesson_id": None,
                "date": "2026-10-30", "value": "4", "work_type": None, "kind": "quarter",
                "term_id": Q1})])
    sweep(engine, lambda: HAND_NOW)
    with engine.connect() as connection:
        after = rows_by(make_report(connection, "hand", "academic_results", {"term_id": Q1},
                                    scope=None, now=HAND_NOW).as_dict(), "class_id")["5b"]
    assert (before["quality_rate"], after["quality_rate"]) == (0.5, 1.0)


def test_the_cli_prints_the_academic_results(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from kozomol.cli import main
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade
    from shared.settings import SERVICES

    url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    upgrade(url, "checker", SERVICES)  # the migration makes the results' table
    made = make_engine(url)
    with made.begin() as connection:
        facts_store.ingest(connection, [
            Event(e["id"], e["type"], e["school_id"], datetime.fromisoformat(e["occurred_at"]),
                  e["data"]) for e in hand_made()])
    sweep(made, lambda: HAND_NOW)
    made.dispose()
    monkeypatch.setenv("KOZOMOL_DATABASE_URL", url)
    monkeypatch.setenv("KOZOMOL_DATA_DIR", str(tmp_path))
    done = CliRunner().invoke(main, [
        "checker", "report", "academic_results", "--school", "hand", "--at",
        HAND_NOW.isoformat(), "--param", f"term_id={Q1}"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "Анализ успеваемости и качества знаний"
    assert "  Успеваемость: 71,4 %" in lines  # 5a's 3 of 5 and 5b's 2 of 2
    assert any(line.startswith("5a ") for line in lines)


def test_a_class_marked_by_half_years_is_in_the_half_year_report_not_the_quarters() -> None:
    """Grades 10-11 are usually marked by half-years (rules.md: the class's own term
    system, read from its plans): their figures belong to the half-year and the year."""
    school = HandMade()
    h1 = "2026-2027-h1"
    school.add("school.calendar", "2026-08-25", {
        "academic_year": "2026-2027", "timezone": "Asia/Bishkek",
        "language_of_instruction": "ru", "weekend": ["sun"], "holidays": [], "terms": [
            {"id": Q1, "kind": "quarter", "number": 1, "start": "2026-09-01",
             "end": "2026-10-31"},
            {"id": Q2, "kind": "quarter", "number": 2, "start": "2026-11-10",
             "end": "2026-12-29"},
            {"id": h1, "kind": "half_year", "number": 1, "start": "2026-09-01",
             "end": "2026-12-29"}]})
    school.roster("5a", "2026-08-26", ["s1"])
    school.add("class.roster", "2026-08-26", {
        "class_id": "10a", "academic_year": "2026-2027", "grade": 10,
        "homeroom_teacher_id": "t-m",
        "students": [{"student_id": s, "full_name": s, "subgroups": {}} for s in ("u1", "u2")]})
    school.plan("5a", "math", "Математика", "t-m", term=Q1, day="2026-09-02")
    school.plan("10a", "math", "Математика", "t-m", term=h1, day="2026-09-02")
    school.final("5a", "s1", "math", Q1, "4")
    for student, value in (("u1", "5"), ("u2", "2")):
        school.add("mark.recorded", "2026-12-28", {
            "mark_id": f"{student}-h1", "student_id": student, "class_id": "10a",
            "subject_id": "math", "teacher_id": "t-m", "lesson_id": None,
            "date": "2026-12-28", "value": value, "work_type": None, "kind": "half_year",
            "term_id": h1})
    now = datetime(2027, 1, 5, 12, 0, tzinfo=ZONE)
    engine = folded(school.events, now)
    with engine.connect() as connection:
        quarter = make_report(connection, "hand", "academic_results", {"term_id": Q1},
                              scope=None, now=now).as_dict()
        half = make_report(connection, "hand", "academic_results",
                           {"term_id": h1, "by": "parallel"}, scope=None, now=now).as_dict()
    assert set(rows_by(quarter, "class_id")) == {"5a"}
    tenth = rows_by(half, "grade")
    assert set(tenth) == {10}
    assert (tenth[10]["students"], tenth[10]["success_rate"], tenth[10]["excellent"],
            tenth[10]["failing"], tenth[10]["sou_rate"]) == (2, 0.5, 1, 1, 0.58)
