"""The real schools' cases of issue 12 in the simulator, checked on its raw events.

Each test reads the events as Kundoluk would send them and recomputes, from the
words of the regulation and ``docs/rules.md``, what the simulated teachers did:
follow-ups of a "2" on a later day, long absences before a "2", joiners and
leavers, half-year classes, a Kyrgyz-language school, nationwide outages, short
exemptions and the pattern variants of topics and marks. The ground truth must
say exactly which of those break a rule.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from kozomol.simulator.faults import FaultRates, PlantedFault
from kozomol.simulator.run import SimulationSpec, collect_faults, school_events
from shared.events.schemas import validation_errors

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LATIN = re.compile(r"[A-Za-z]")
CYRILLIC = re.compile(r"[А-Яа-яЁёҢңӨөҮү]")
KYRGYZ_LETTERS = re.compile(r"[ңөүҢӨҮ]")
NOT_A_LETTER = re.compile(r"[\W_]+")
#: Subjects whose topics are not in the language of instruction by nature.
OWN_LANGUAGE_SUBJECTS = {"english", "kyrgyz_lang", "russian_lang", "literature", "reading"}


@dataclass
class Journal:
    """What the events say, folded naively (they come in time order)."""

    events: list[dict[str, Any]]
    faults: list[PlantedFault]
    calendar: dict[str, Any] = field(default_factory=dict)
    lessons: dict[str, dict[str, Any]] = field(default_factory=dict)
    absent: dict[str, set[str]] = field(default_factory=dict)  # lesson -> students
    marks: dict[str, dict[str, Any]] = field(default_factory=dict)
    rosters: dict[str, list[tuple[date, list[dict[str, Any]]]]] = field(
        default_factory=lambda: defaultdict(list))
    exemptions: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)

    def planted(self, rule: str) -> list[PlantedFault]:
        return [f for f in self.faults if f.rule == rule]

    def school_day(self, day: date) -> bool:
        return (WEEKDAYS[day.weekday()] not in self.calendar["weekend"]
                and day.isoformat() not in self.calendar["holidays"])

    def school_days_after(self, day: date, count: int) -> date:
        seen = 0
        while seen < count:
            day += timedelta(days=1)
            seen += self.school_day(day)
        return day

    def terms(self, kind: str) -> list[dict[str, Any]]:
        return [t for t in self.calendar["terms"] if t["kind"] == kind]

    def subgroups(self, student_id: str) -> dict[str, str]:
        for snapshots in self.rosters.values():
            for _, students in reversed(snapshots):
                for student in students:
                    if student["student_id"] == student_id:
                        return dict(student["subgroups"])
        return {}

    def class_of(self, student_id: str) -> str:
        return next(cid for cid, snapshots in self.rosters.items() for _, students in snapshots
                    if any(s["student_id"] == student_id for s in students))

    def timetable(self, student_id: str) -> list[dict[str, Any]]:
        """The student's own lessons: their class's whole-class lessons and their
        subgroups', by date and period (rules.md, mark.failing.after_absence)."""
        class_id, groups = self.class_of(student_id), self.subgroups(student_id)
        return sorted((lesson for lesson in self.lessons.values()
                       if lesson["class_id"] == class_id
                       and (lesson["subgroup"] is None
                            or groups.get(lesson["subject_id"]) == lesson["subgroup"])),
                      key=lambda d: (d["date"], d["period"], d["lesson_id"]))

    def lesson_of(self, mark: dict[str, Any]) -> dict[str, Any] | None:
        """A mark's lesson: its lesson_id, else the first lesson of its class, subject and
        the student's subgroup on its date."""
        if mark["lesson_id"]:
            return self.lessons.get(mark["lesson_id"])
        group = self.subgroups(mark["student_id"]).get(mark["subject_id"])
        same_day = sorted((d for d in self.lessons.values()
                           if (d["class_id"], d["subject_id"], d["date"]) ==
                           (mark["class_id"], mark["subject_id"], mark["date"])
                           and d["subgroup"] in (None, group)), key=lambda d: d["period"])
        return same_day[0] if same_day else None

    def current(self) -> list[dict[str, Any]]:
        return [m for m in self.marks.values() if m["kind"] == "current"]


def read(events: list[dict[str, Any]], faults: list[PlantedFault]) -> Journal:
    journal = Journal(events, faults)
    for event in events:
        data, kind = event["data"], event["type"]
        zone = ZoneInfo(journal.calendar.get("timezone", "Asia/Bishkek"))
        day = datetime.fromisoformat(event["occurred_at"]).astimezone(zone).date()
        if kind == "school.calendar":
            journal.calendar = data
        elif kind == "lesson.recorded":
            journal.lessons[data["lesson_id"]] = data
        elif kind == "lesson.deleted":
            journal.lessons.pop(data["lesson_id"], None)
        elif kind == "attendance.recorded":
            journal.absent[data["lesson_id"]] = {a["student_id"] for a in data["absent"]}
        elif kind == "mark.recorded":
            journal.marks[data["mark_id"]] = data
        elif kind == "mark.deleted":
            journal.marks.pop(data["mark_id"], None)
        elif kind == "class.roster":
            journal.rosters[data["class_id"]].append((day, data["students"]))
        elif kind == "exemption.recorded":
            journal.exemptions.append(data)
        elif kind == "platform.outage":
            journal.outages.append(event)
        elif kind == "subject.plan":
            journal.plans.append(data)
    return journal


@cache
def year(seed: int = 9, language: str = "ru", scale: float = 5.0) -> Journal:
    """A year of a school with grades 3, 5, 10 and 11 (one class each), faults times ``scale``."""
    faults: list[PlantedFault] = []
    spec = SimulationSpec(seed=seed, parallels=1, grades=(3, 5, 10, 11), terms=(1, 2, 3, 4),
                          rates=FaultRates.default(scale) if scale else FaultRates.none(),
                          language=language)
    return read(list(school_events(spec, collect_faults(faults))), faults)


def missed_before(journal: Journal, mark: dict[str, Any]) -> tuple[int, list[str]]:
    """Consecutive lessons (any subject) the student missed just before the mark's lesson,
    if that lesson is their first of its subject since; else 0. Also the missed days."""
    lesson = journal.lesson_of(mark)
    assert lesson is not None
    timetable = journal.timetable(mark["student_id"])
    position = next(i for i, d in enumerate(timetable) if d["lesson_id"] == lesson["lesson_id"])
    run: list[dict[str, Any]] = []
    for earlier in reversed(timetable[:position]):
        if mark["student_id"] in journal.absent.get(earlier["lesson_id"], set()):
            run.append(earlier)
        elif run:
            break
        elif earlier["subject_id"] == lesson["subject_id"]:
            return 0, []  # attended this subject since: not the first lesson back
    return len(run), sorted({d["date"] for d in run})


# 1, 2: a "2" is followed up on a later day; a long absence before a "2" ------------------------
def test_every_fail_is_followed_up_on_a_later_day_unless_planted_otherwise() -> None:
    """Clause 4.4: a student given a "2" is questioned again within 2–3 days; a second mark
    the same day is not that."""
    journal = year()
    unfollowed = set()
    for mark in journal.current():
        if mark["value"] != "2":
            continue
        day = date.fromisoformat(mark["date"])
        until = journal.school_days_after(day, 3)
        if not any(other["student_id"] == mark["student_id"]
                   and other["subject_id"] == mark["subject_id"]
                   and day < date.fromisoformat(other["date"]) <= until
                   for other in journal.current()):
            unfollowed.add(mark["mark_id"])
    planted = {f.mark_id for f in journal.planted("mark.failing.no_followup")}
    assert planted and unfollowed == planted


def test_a_fail_after_a_long_absence_is_planted_exactly_where_it_happens() -> None:
    """Clause 4.4: no "2" at the first lesson after an absence of 3 or more lessons; the
    simulator plants it as a student ill for whole school days, and nowhere else."""
    journal = year()
    after_absence = {}
    for mark in journal.current():
        if mark["value"] == "2":
            missed, days = missed_before(journal, mark)
            if missed >= 3:
                after_absence[mark["mark_id"]] = days
    planted = {f.mark_id for f in journal.planted("mark.failing.after_absence")}
    assert len(planted) >= 3 and set(after_absence) == planted
    for mark_id in planted:
        student = journal.marks[mark_id]["student_id"]
        whole_days = [day for day in after_absence[mark_id]
                      if all(student in journal.absent.get(d["lesson_id"], set())
                             for d in journal.timetable(student) if d["date"] == day)]
        assert whole_days, f"{mark_id}: not a whole day of absence"


# 3: joiners and leavers -----------------------------------------------------------------------
def roster_changes(journal: Journal) -> tuple[dict[str, date], dict[str, date]]:
    """student -> the day they joined / left, from the class.roster snapshots."""
    joined, left = {}, {}
    for snapshots in journal.rosters.values():
        previous = {s["student_id"] for s in snapshots[0][1]}
        for day, students in snapshots[1:]:
            now = {s["student_id"] for s in students}
            joined.update(dict.fromkeys(now - previous, day))
            left.update(dict.fromkeys(previous - now, day))
            previous = now
    return joined, left


def own_terms(journal: Journal, class_id: str) -> list[dict[str, Any]]:
    kinds = {t["id"]: t["kind"] for t in journal.calendar["terms"]}
    by_half_years = any(kinds[p["term_id"]] == "half_year" for p in journal.plans
                        if p["class_id"] == class_id)
    return journal.terms("half_year" if by_half_years else "quarter")


def test_leavers_have_no_entries_after_leaving_and_owe_no_term_mark() -> None:
    journal = year()
    _, left = roster_changes(journal)
    assert left, "nobody left a class"
    for student, day in left.items():
        after = [m for m in journal.marks.values() if m["student_id"] == student
                 and date.fromisoformat(m["date"]) >= day]
        assert after == [], student
        assert not any(student in journal.absent.get(lesson_id, set())
                       for lesson_id, lesson in journal.lessons.items()
                       if date.fromisoformat(lesson["date"]) >= day)
        assert not any(f.student_id == student and f.rule.startswith("final_mark.")
                       and f.date >= day.isoformat() for f in journal.faults)


def test_joiners_are_in_the_class_from_joining_and_owe_the_term_mark() -> None:
    journal = year()
    joined, _ = roster_changes(journal)
    assert joined, "nobody joined a class"
    late = {(f.student_id, f.subject_id, f.term_id)
            for f in journal.planted("final_mark.late")}
    never_marked = 0
    for student, day in joined.items():
        entries = [m for m in journal.current() if m["student_id"] == student]
        assert all(date.fromisoformat(m["date"]) >= day for m in entries), student
        class_id = journal.class_of(student)
        grade = next(e["data"]["grade"] for e in journal.events if e["type"] == "class.roster"
                     and e["data"]["class_id"] == class_id)
        if grade < 2:
            continue
        groups = journal.subgroups(student)
        for term in own_terms(journal, class_id):
            if term["end"] < day.isoformat():
                continue  # joined after that term: owes nothing for it
            subjects = {d["subject_id"] for d in journal.lessons.values()
                        if d["class_id"] == class_id and term["start"] <= d["date"] <= term["end"]
                        and d["subgroup"] in (None, groups.get(d["subject_id"]))}
            for subject_id in subjects:
                marked = any(m["student_id"] == student and m["subject_id"] == subject_id
                             and m["term_id"] == term["id"] for m in journal.marks.values())
                if not marked:
                    assert (student, subject_id, term["id"]) in late
                    never_marked += 1
    assert never_marked, "no joiner's term mark was forgotten (final_mark.late)"


# 4: half-year classes ---------------------------------------------------------------------------
def test_grades_ten_and_eleven_are_planned_and_marked_by_half_years() -> None:
    journal = year()
    quarters, halves = journal.terms("quarter"), journal.terms("half_year")
    assert [t["number"] for t in quarters] == [1, 2, 3, 4]
    assert [(h["start"], h["end"]) for h in halves] == [
        (quarters[0]["start"], quarters[1]["end"]), (quarters[2]["start"], quarters[3]["end"])]
    grades = {cid: e["data"]["grade"] for e in journal.events if e["type"] == "class.roster"
              for cid in [e["data"]["class_id"]]}
    kinds = {t["id"]: t["kind"] for t in journal.calendar["terms"]}
    for plan in journal.plans:
        assert kinds[plan["term_id"]] == ("half_year" if grades[plan["class_id"]] >= 10
                                          else "quarter")
    finals = [m for m in journal.marks.values() if m["kind"] in ("quarter", "half_year")]
    for mark in finals:
        senior = grades[mark["class_id"]] >= 10
        assert mark["kind"] == ("half_year" if senior else "quarter")
        assert kinds[mark["term_id"]] == mark["kind"]
        term = next(t for t in journal.calendar["terms"] if t["id"] == mark["term_id"])
        assert mark["date"] == term["end"]
    assert {m["kind"] for m in finals} == {"quarter", "half_year"}
    assert {f.term_id for f in journal.faults if f.rule.startswith("final_mark.")
            and grades[f.class_id or ""] >= 10} <= {h["id"] for h in halves}
    assert any(m["kind"] == "year" and grades[m["class_id"]] >= 10
               for m in journal.marks.values())


# 5: a Kyrgyz-language school --------------------------------------------------------------------
def test_a_kyrgyz_language_school_writes_its_topics_in_kyrgyz() -> None:
    clean = year(seed=6, language="ky", scale=0)
    assert clean.calendar["language_of_instruction"] == "ky"
    topics = [d["topic"] for d in clean.lessons.values()
              if d["subject_id"] not in OWN_LANGUAGE_SUBJECTS]
    assert topics and not any(LATIN.search(topic) for topic in topics)
    assert sum(bool(KYRGYZ_LETTERS.search(topic)) for topic in topics) > len(topics) // 2
    # graded work is named in Kyrgyz too (контролдук / лабораториялык / практикалык иш)
    assert any(topic.startswith("Контролдук иш № ") for topic in topics)
    assert not any(topic.startswith("Контрольная работа") for topic in topics)
    faulty = year(seed=6, language="ky")
    wrong = [faulty.lessons[f.lesson_id or ""]["topic"] for f in faulty.planted("topic.language")]
    assert wrong and all(LATIN.search(t) and not CYRILLIC.search(t) for t in wrong)


# 6: nationwide outages --------------------------------------------------------------------------
def test_a_nationwide_outage_is_sent_once_for_every_school_and_blocks_them_all() -> None:
    spec = SimulationSpec(seed=5, schools=2, parallels=1, grades=(5,), terms=(1, 2, 3, 4),
                          rates=FaultRates.none())
    events = list(school_events(spec))
    nationwide = [e for e in events if e["school_id"] == "*"]
    assert nationwide and all(e["type"] == "platform.outage" for e in nationwide)
    assert len({e["id"] for e in nationwide}) == len(nationwide)
    assert all(validation_errors(e) == {} for e in nationwide)
    own = [e for e in events if e["type"] == "platform.outage" and e["school_id"] != "*"]
    windows = [(datetime.fromisoformat(e["data"]["started_at"]),
                datetime.fromisoformat(e["data"]["ended_at"])) for e in nationwide]
    for school_id in ("sch0001", "sch0002"):
        entries = [datetime.fromisoformat(e["occurred_at"]) for e in events
                   if e["school_id"] == school_id]
        # Nobody can enter anything while Kundoluk is down, in either school.
        assert not any(start <= at <= end for at in entries for start, end in windows)
    # Each term has one outage per school: the nationwide one, or the school's own.
    assert len(own) + 2 * len(nationwide) == 2 * 4


# 7: short exemptions ------------------------------------------------------------------------------
def test_a_short_exemption_spares_those_lessons_but_not_the_term_mark() -> None:
    journal = year()
    short = [e for e in journal.exemptions if (date.fromisoformat(e["to"]) -
                                               date.fromisoformat(e["from"])).days <= 7]
    assert short
    for exemption in short:
        student, start, end = exemption["student_id"], exemption["from"], exemption["to"]
        assert not any(m["student_id"] == student and m["subject_id"] == "pe"
                       and start <= m["date"] <= end for m in journal.current())
        for term in own_terms(journal, journal.class_of(student)):
            if term["start"] <= start <= term["end"]:
                assert any(m["student_id"] == student and m["subject_id"] == "pe"
                           and m["term_id"] == term["id"] for m in journal.marks.values()), (
                    "a few days' exemption does not exempt from the term mark")


# 8: pattern variants ------------------------------------------------------------------------------
def test_topics_use_the_new_placeholder_abbreviation_and_duplicate_variants() -> None:
    journal = year(scale=10.0)
    placeholders = {journal.lessons[f.lesson_id or ""]["topic"]
                    for f in journal.planted("topic.placeholder")}
    assert placeholders & {"-//-", "//", "То же самое", "тоже самое", "Аналогично"}
    abbreviated = [journal.lessons[f.lesson_id or ""]["topic"]
                   for f in journal.planted("topic.abbreviation")]
    assert any(a in topic for topic in abbreviated for a in ("р/р", "д/з", "вн. чт.", "т.е."))
    differing = 0
    for fault in journal.planted("topic.double_lesson_duplicate"):
        lesson = journal.lessons[fault.lesson_id or ""]
        earlier = [d for d in journal.lessons.values()
                   if (d["class_id"], d["subject_id"], d["subgroup"], d["date"]) ==
                   (lesson["class_id"], lesson["subject_id"], lesson["subgroup"], lesson["date"])
                   and d["period"] < lesson["period"]]

        def normal(topic: str) -> str:
            return " ".join(NOT_A_LETTER.sub(" ", topic.casefold()).split())

        assert any(normal(d["topic"]) == normal(lesson["topic"]) for d in earlier)
        differing += all(d["topic"] != lesson["topic"] for d in earlier)
    assert differing, "no duplicate differs in case or punctuation only"


def test_marks_without_lesson_id_belong_to_the_first_lesson_of_their_day() -> None:
    journal = year()
    loose = [m for m in journal.current() if m["lesson_id"] is None
             and not any(f.mark_id == m["mark_id"] for f in journal.planted(
                 "mark.date.not_lesson"))]
    assert len(loose) > 100
    for mark in loose:
        lesson = journal.lesson_of(mark)
        assert lesson is not None, mark["mark_id"]
        # the simulator gave it at that lesson: its mark id starts with the lesson's id
        assert mark["mark_id"].startswith(lesson["lesson_id"] + "-m"), mark["mark_id"]
