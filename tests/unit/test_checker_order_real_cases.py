"""Findings do not depend on delivery order, batch boundaries or when the sweeps run.

Hypothesis builds small schools with what real schools send: one or two classes,
a few students, about two weeks of lessons, rosters changing over time (joiners,
leavers, a school connected mid-way), classes marked by quarters or by
half-years, exemptions of any length, Russian- and Kyrgyz-language schools,
marks with and without ``lesson_id``, corrections, deletions, repeated term
marks, topics entered and cleared, outages. Then:

- the same events in any order and with duplicates give the same findings
  (catalog: "Results must not depend on the order events arrive in");
- folding them batch by batch through the stored form (``dump_entity`` /
  ``load_entity``, as the facts store does) gives the same findings;
- once every event is in, a finding found at one sweep is found at every later
  sweep (nothing is opened and withdrawn just because time passed), except
  ``program.behind_plan``, whose "planned up to yesterday" moves with the clock.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.checker.domain.facts import (
    EntityRef,
    SchoolFacts,
    dump_entity,
    entity_of,
    load_entity,
)
from services.checker.domain.rules import Finding, evaluate, identity

ZONE = ZoneInfo("Asia/Bishkek")
FIRST_DAY = date(2026, 9, 1)  # a Tuesday
LAST_DAY = date(2026, 9, 26)  # a Saturday: the end of the second (short) quarter
TERMS: list[dict[str, Any]] = [
    {"id": "q1", "kind": "quarter", "number": 1, "start": "2026-09-01", "end": "2026-09-12"},
    {"id": "q2", "kind": "quarter", "number": 2, "start": "2026-09-14", "end": "2026-09-26"},
    {"id": "h1", "kind": "half_year", "number": 1, "start": "2026-09-01", "end": "2026-09-26"},
    {"id": "y", "kind": "year", "number": 1, "start": "2026-09-01", "end": "2026-09-26"},
]
TOPICS = {
    "ru": ["Сложение дробей", "Имя существительное", "Повторение изученного",
           "Контрольная работа «Дроби»", "Лабораторная работа «Измерение массы тела»",
           "Практическая работа «Размещение топливных баз»", "Контрольный диктант"],
    "ky": ["Бөлчөктөрдү кошуу", "Кыргыз тилиндеги сөз түркүмдөрү", "Зат атооч",
           "Манас эпосу", "Контрольная работа «Бөлчөктөр»", "Диктант «Күз»"],
}
FAULTY_TOPICS = ["-//-", "То же самое", "повтор", "—", "...", "р/р Изложение", "д/з",
                 "вн. чт. Айтматов", "Дроби, т.е. части", "Natural numbers", "Сандардын түрлөрү",
                 "к/р", "см. выше"]
SUBJECTS = ("math", "native", "english", "pe", "informatics")  # informatics: no plan
VALUES = ("2", "3", "4", "5", "5", "4", "2", "1", "н")
WORK_TYPES = ("oral", "oral", "written", "control", "test", "homework", "lab", None)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


Event = tuple[str, str, datetime, dict[str, Any]]


@dataclass(repr=False)
class School:
    language: str
    events: list[Event] = field(default_factory=list)

    def add(self, event_type: str, when: datetime, data: dict[str, Any]) -> None:
        self.events.append((f"e{len(self.events) + 1}", event_type, when, data))

    def __repr__(self) -> str:
        return f"School({self.language}, {len(self.events)} events)"

    @property
    def last_entry(self) -> datetime:
        return max(when for _, _, when, _ in self.events)


@dataclass(frozen=True)
class ClassShape:
    grade: int
    by_half_years: bool
    students: int
    joiner_day: int | None      # days after 1.09 a student joins (None: nobody)
    leaver_day: int | None      # days after 1.09 a student leaves
    connected_day: int | None   # the first roster is only sent this many days after 1.09
    exemption: tuple[int, int] | None  # PE exemption: start offset, length in days


def school_days() -> list[date]:
    days, day = [], FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() != 6:
            days.append(day)
        day += timedelta(days=1)
    return days


def build(language: str, shapes: list[ClassShape], seed: int, outage: tuple[int, int] | None,
          holiday: int | None) -> School:
    rng = random.Random(seed)
    school = School(language)
    days = school_days()
    holidays = [days[holiday].isoformat()] if holiday is not None else []
    school.add("school.calendar", at(date(2026, 8, 25)), {
        "academic_year": "2026-2027", "timezone": "Asia/Bishkek",
        "language_of_instruction": language, "weekend": ["sun"], "terms": TERMS,
        "holidays": holidays})
    if outage is not None:
        start = at(FIRST_DAY, 9) + timedelta(hours=outage[0])
        school.add("platform.outage", start + timedelta(hours=outage[1], minutes=5), {
            "started_at": start.isoformat(),
            "ended_at": (start + timedelta(hours=outage[1])).isoformat()})
    for number, shape in enumerate(shapes):
        _class(school, rng, f"{shape.grade}{'ab'[number]}", shape,
               [d for d in days if d.isoformat() not in holidays])
    return school


def _class(school: School, rng: random.Random, class_id: str, shape: ClassShape,
           days: list[date]) -> None:
    students = [f"{class_id}-s{i}" for i in range(1, shape.students + 1)]
    joiner, leaver = f"{class_id}-new", students[-1]

    def roster(when: datetime, members: list[str]) -> None:
        school.add("class.roster", when, {
            "class_id": class_id, "academic_year": "2026-2027", "grade": shape.grade,
            "homeroom_teacher_id": f"{class_id}-t1", "students": [
                {"student_id": sid, "full_name": sid,
                 "subgroups": {"english": str(1 + i % 2)}} for i, sid in enumerate(members)]})

    changes: list[tuple[int, str]] = []
    if shape.joiner_day is not None:
        changes.append((shape.joiner_day, "join"))
    if shape.leaver_day is not None:
        changes.append((shape.leaver_day, "leave"))
    members = list(students)
    if shape.connected_day is None:
        roster(at(date(2026, 8, 25)), members)
    else:
        # A school connected mid-way: its first snapshot comes late, already with the
        # changes made before it.
        for offset, change in sorted(changes):
            if offset <= shape.connected_day:
                members = _changed(members, change, joiner, leaver)
        changes = [c for c in changes if c[0] > shape.connected_day]
        roster(at(FIRST_DAY + timedelta(days=shape.connected_day), 8), members)
    for offset, change in sorted(changes):
        members = _changed(members, change, joiner, leaver)
        roster(at(FIRST_DAY + timedelta(days=offset), 8), members)
    everyone = [*students, joiner] if shape.joiner_day is not None else students

    terms = ["h1"] if shape.by_half_years else ["q1", "q2"]
    teachers = {subject: f"{class_id}-t{n}" for n, subject in enumerate(SUBJECTS, 1)}
    for term in terms:
        for subject in ("math", "native", "pe"):
            school.add("subject.plan", at(date(2026, 8, 28)), {
                "class_id": class_id, "subject_id": subject, "subject_name": subject,
                "subgroup": None, "teacher_id": teachers[subject], "term_id": term,
                "lessons": [{"number": i + 1, "planned_date": d.isoformat(), "topic": "Тема"}
                            for i, d in enumerate(days[::3])]})
        for number in ("1", "2"):
            school.add("subject.plan", at(date(2026, 8, 28)), {
                "class_id": class_id, "subject_id": "english", "subject_name": "English",
                "subgroup": number, "teacher_id": f"{class_id}-e{number}", "term_id": term,
                "lessons": []})
    if shape.exemption is not None:
        start = FIRST_DAY + timedelta(days=shape.exemption[0])
        school.add("exemption.recorded", at(start, 8), {
            "student_id": rng.choice(students), "subject_id": "pe",
            "from": start.isoformat(),
            "to": (start + timedelta(days=shape.exemption[1])).isoformat(),
            "reason": "освобождение от физкультуры"})

    for day in rng.sample(days, k=min(len(days), rng.randint(4, 10))):
        for period in range(1, rng.randint(1, 4) + 1):
            subject = rng.choice(SUBJECTS)
            groups: Iterable[str | None] = ("1", "2") if subject == "english" else (None,)
            for group in groups:
                teacher = teachers[subject] if group is None else f"{class_id}-e{group}"
                _lesson(school, rng, class_id, day, period=period, subject=subject,
                        group=group, teacher=teacher, students=everyone)
    for term in [*terms, "y"]:
        _term_marks(school, rng, class_id, term, everyone)
    for term in ("q1", "q2"):
        if rng.random() < 0.8:
            end = date.fromisoformat(TERMS[0 if term == "q1" else 1]["end"])
            school.add("personal_data.verified", at(end + timedelta(days=rng.randint(-6, 9))),
                       {"class_id": class_id, "term_id": term,
                        "verified_by": f"{class_id}-t1"})


def _changed(members: list[str], change: str, joiner: str, leaver: str) -> list[str]:
    if change == "join":
        return [*members, joiner]
    return [sid for sid in members if sid != leaver]


def _lesson(school: School, rng: random.Random, class_id: str, day: date, *, period: int,
            subject: str, group: str | None, teacher: str, students: list[str]) -> None:
    lesson_id = f"{class_id}-{day.isoformat()}-{period}-{subject}{group or ''}"
    topics = TOPICS[school.language] if rng.random() < 0.75 else FAULTY_TOPICS
    topic = rng.choice(topics)
    if rng.random() < 0.3:  # the same topic again, by a full stop or a capital letter apart
        topic = rng.choice([topic.lower(), topic + ".", topic.upper()])
    substitute = rng.random() < 0.1
    data = {"lesson_id": lesson_id, "class_id": class_id, "subgroup": group,
            "subject_id": subject, "date": day.isoformat(), "period": period,
            "teacher_id": f"{class_id}-sub" if substitute else teacher,
            "scheduled_teacher_id": teacher, "is_substitution": substitute and rng.random() < 0.6,
            "topic": topic, "homework": rng.choice(["№ 3, 5", "не задано", "§ 4", ""])}
    first = at(day, rng.choice([9, 15, 21, 23]), rng.randint(0, 59)) + timedelta(
        days=rng.choice([0, 0, 0, 0, 1, 3]))
    school.add("lesson.recorded", first, data)
    roll = rng.random()
    if roll < 0.15:  # entered and cleared later the same evening (or the next day)
        school.add("lesson.recorded", first + timedelta(hours=rng.choice([3, 20])),
                   {**data, "topic": "", "homework": ""})
    elif roll < 0.25:  # the topic corrected an hour later
        school.add("lesson.recorded", first + timedelta(hours=1),
                   {**data, "topic": rng.choice(TOPICS[school.language])})
    elif roll < 0.28:
        school.add("lesson.deleted", first + timedelta(hours=2), {"lesson_id": lesson_id})
    if rng.random() < 0.9:
        absent = [sid for sid in students if rng.random() < 0.25]
        sheet_at = at(day, 8, 10) + timedelta(days=rng.choice([0, 0, 0, 1]))
        school.add("attendance.recorded", sheet_at, {
            "lesson_id": lesson_id, "late": [],
            "absent": [{"student_id": sid, "reason": None} for sid in absent]})
        if absent and rng.random() < 0.6:
            school.add("attendance.recorded", sheet_at + timedelta(days=rng.randint(0, 5)), {
                "lesson_id": lesson_id, "late": [],
                "absent": [{"student_id": sid, "reason": "illness"} for sid in absent]})
    for student in students:
        if rng.random() < 0.5:
            continue
        mark_id = f"m-{lesson_id}-{student}"
        mark = {"mark_id": mark_id, "student_id": student, "class_id": class_id,
                "subject_id": subject, "teacher_id": teacher,
                "lesson_id": None if rng.random() < 0.2 else lesson_id,
                "date": day.isoformat(), "value": rng.choice(VALUES),
                "work_type": rng.choice(WORK_TYPES), "kind": "current", "term_id": None}
        entered = at(day, 14) + timedelta(days=rng.choice([0, 0, 0, 1, 8]))
        school.add("mark.recorded", entered, mark)
        roll = rng.random()
        if roll < 0.1:  # the value or the date corrected
            school.add("mark.recorded", entered + timedelta(hours=5), {
                **mark, "value": rng.choice(VALUES),
                "date": (day - timedelta(days=rng.choice([0, 1]))).isoformat()})
        elif roll < 0.15:
            school.add("mark.deleted", entered + timedelta(hours=1), {"mark_id": mark_id})


def _term_marks(school: School, rng: random.Random, class_id: str, term: str,
                students: list[str]) -> None:
    spec = next(t for t in TERMS if t["id"] == term)
    end = date.fromisoformat(spec["end"])
    kind = {"quarter": "quarter", "half_year": "half_year", "year": "year"}[spec["kind"]]
    for student in students:
        for subject in SUBJECTS:
            if rng.random() < 0.25:
                continue
            mark: dict[str, Any] = {
                    "mark_id": f"f-{term}-{subject}-{student}", "student_id": student,
                    "class_id": class_id, "subject_id": subject,
                    "teacher_id": f"{class_id}-t1", "lesson_id": None, "date": end.isoformat(),
                    "value": rng.choice(["3", "4", "5", "н/а"]), "work_type": None,
                    "kind": kind, "term_id": term}
            entered = at(end, 16) + timedelta(days=rng.choice([0, 0, 1, 3]))
            school.add("mark.recorded", entered, mark)
            if rng.random() < 0.2:  # Kundoluk sends the quarter mark again, another id
                school.add("mark.recorded", entered + timedelta(days=rng.randint(0, 4)), {
                    **mark, "mark_id": mark["mark_id"] + "-again",
                    "value": rng.choice(["3", "4", "5"])})


@st.composite
def class_shapes(draw: st.DrawFn) -> ClassShape:
    grade = draw(st.sampled_from([2, 5, 10, 11]))
    offsets = st.integers(0, 25)
    return ClassShape(
        grade=grade,
        by_half_years=grade >= 10 and draw(st.booleans()),
        students=draw(st.integers(2, 4)),
        joiner_day=draw(st.none() | offsets),
        leaver_day=draw(st.none() | offsets),
        connected_day=draw(st.none() | st.integers(3, 20)),
        exemption=draw(st.none() | st.tuples(st.integers(-10, 25), st.integers(0, 60))))


@dataclass(frozen=True)
class Recipe:
    """What a generated school is made of (small, so a failing example reads well)."""

    language: str
    shapes: tuple[ClassShape, ...]
    seed: int
    outage: tuple[int, int] | None  # hours after 1.09 09:00, length in hours
    holiday: int | None             # which school day is a holiday

    def school(self) -> School:
        return build(self.language, list(self.shapes), self.seed, self.outage, self.holiday)


@st.composite
def schools(draw: st.DrawFn) -> Recipe:
    return Recipe(
        language=draw(st.sampled_from(["ru", "ky"])),
        shapes=tuple(draw(st.lists(class_shapes(), min_size=1, max_size=2))),
        seed=draw(st.integers(0, 2**32 - 1)),
        outage=draw(st.none() | st.tuples(st.integers(0, 24 * 26), st.integers(1, 30))),
        holiday=draw(st.none() | st.integers(0, 21)))


def fold(events: Iterable[Event]) -> SchoolFacts:
    facts = SchoolFacts("s1")
    for event_id, event_type, when, data in events:
        facts.apply(event_id, event_type, when, data)
    return facts


def fold_in_batches(events: list[Event], cuts: list[int]) -> SchoolFacts:
    """What the facts store does: per batch, load the entities it touches from their
    stored form, fold the batch in, store them again; then load the whole school."""
    stored: dict[EntityRef, dict[str, Any]] = {}
    bounds = [0, *sorted(cuts), len(events)]
    for start, stop in itertools.pairwise(bounds):
        batch = events[start:stop]
        refs = {ref for event_id, event_type, _, data in batch
                if (ref := entity_of(event_type, event_id, data)) is not None}
        facts = SchoolFacts("s1")
        for ref in sorted(refs):
            if ref in stored:
                load_entity(facts, ref, json.loads(json.dumps(stored[ref])))
        for event_id, event_type, when, data in batch:
            facts.apply(event_id, event_type, when, data)
        for ref in refs:
            state = dump_entity(facts, ref)
            if state is not None:
                stored[ref] = json.loads(json.dumps(state))
    whole = SchoolFacts("s1")
    for ref, state in stored.items():
        load_entity(whole, ref, state)
    return whole


def judged(facts: SchoolFacts, now: datetime) -> set[Finding]:
    return set(evaluate(facts, now))


def described(facts: SchoolFacts, now: datetime) -> dict[str, set[str]]:
    """Per identity, every description given to it (fields and evidence)."""
    out: dict[str, set[str]] = defaultdict(set)
    for finding in evaluate(facts, now):
        out[identity(finding)].add(json.dumps(
            [repr(finding), finding.evidence], sort_keys=True, default=str))
    return dict(out)


def same(found: set[Finding], expected: set[Finding], how: str) -> None:
    extra = sorted(identity(f) for f in found - expected)
    missing = sorted(identity(f) for f in expected - found)
    assert not extra and not missing, \
        f"{how}: {len(extra)} more, e.g. {extra[:5]}; {len(missing)} fewer, e.g. {missing[:5]}"


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def the_end(school: School) -> datetime:
    return max(school.last_entry, at(LAST_DAY)) + timedelta(days=30)


@SETTINGS
@given(recipe=schools(), seed=st.integers(0, 2**32 - 1), duplicates=st.floats(0, 0.5))
def test_delivery_order_and_duplicates_do_not_change_the_findings(
        recipe: Recipe, seed: int, duplicates: float) -> None:
    school = recipe.school()
    order = random.Random(seed)
    stream = list(school.events)
    stream += [event for event in school.events if order.random() < duplicates]
    order.shuffle(stream)
    now = the_end(school)
    in_order = judged(fold(school.events), now)
    same(judged(fold(stream), now), in_order, "shuffled, with duplicates")
    assert in_order, "the generated school is faulty enough for this to mean something"


@SETTINGS
@given(recipe=schools(), seed=st.integers(0, 2**32 - 1))
def test_delivery_order_does_not_change_what_a_finding_says(recipe: Recipe, seed: int) -> None:
    school = recipe.school()
    stream = list(school.events)
    random.Random(seed).shuffle(stream)
    now = the_end(school)
    in_order = described(fold(school.events), now)
    shuffled = described(fold(stream), now)
    differing = sorted(key for key in in_order.keys() | shuffled.keys()
                       if in_order.get(key) != shuffled.get(key))
    assert not differing, "a remark's date, people or evidence depend on arrival order: " + \
        "; ".join(f"{key}: {in_order.get(key)} / {shuffled.get(key)}" for key in differing[:3])
    assert all(len(texts) == 1 for texts in in_order.values()), \
        "one identity, one description: the store keeps one finding per identity"


@SETTINGS
@given(recipe=schools(), seed=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.floats(0, 1), max_size=6))
def test_batch_boundaries_through_the_stored_form_do_not_change_the_findings(
        recipe: Recipe, seed: int, cuts: list[float]) -> None:
    school = recipe.school()
    order = random.Random(seed)
    stream = list(school.events)
    stream += [event for event in school.events if order.random() < 0.2]
    order.shuffle(stream)
    now = the_end(school)
    batched = fold_in_batches(stream, [int(cut * len(stream)) for cut in cuts])
    same(judged(batched, now), judged(fold(school.events), now), "batch by batch")


@SETTINGS
@given(recipe=schools(), gaps=st.lists(st.integers(0, 30 * 24), min_size=1, max_size=3))
def test_once_everything_is_in_a_later_sweep_keeps_what_an_earlier_one_found(
        recipe: Recipe, gaps: list[int]) -> None:
    school = recipe.school()
    facts = fold(school.events)
    first = school.last_entry + timedelta(minutes=1)
    moments = [first, *sorted(first + timedelta(hours=gap) for gap in gaps),
               the_end(school) + timedelta(days=5)]
    sweeps = [{f for f in judged(facts, moment) if f.rule != "program.behind_plan"}
              for moment in moments]
    for earlier, later in itertools.pairwise(sweeps):
        gone = earlier - later
        assert not gone, f"withdrawn with no new entry, only because time passed: {gone}"
