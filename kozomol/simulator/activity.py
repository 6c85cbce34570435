"""A school year of teacher activity, as the events Kundoluk would send.

Teachers behave like people: most entries come on time, some a few hours
later the same day, attendance reasons are sometimes filled in a day later,
marks are corrected, entries made by mistake are deleted, lessons are
substituted, and the platform has an outage now and then (entries then come
after it ends, within the grace the regulation allows; some outages are
Kundoluk's nationwide ones, ``school_id: "*"``). Students join and leave classes
(roster snapshots), fall ill for whole days, are exempt from physical
education for a term or a few days; grades 10–11 are marked by half-years.
None of that breaks a rule. The faults of ``faults.py`` are planted on top, each one recorded once.

Events come out in the order of their ``occurred_at``; only the events of the
next few weeks are held in memory, so a year (or many schools, one after the
other) streams in constant memory.
"""

from __future__ import annotations

import heapq
import math
import random
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kozomol.simulator.contacts import deputy_director, parent_contacts, teacher_contacts
from kozomol.simulator.faults import (
    ABBREVIATED_TOPICS,
    FOREIGN_TOPICS,
    INVALID_MARK_VALUES,
    PLACEHOLDER_TOPICS,
    FaultRates,
    PlantedFault,
)
from kozomol.simulator.kyrgyz import KYRGYZ_PLACEHOLDERS, TRANSLITERATED_TOPICS
from kozomol.simulator.model import PlannedLesson, School, SchoolClass, Slot, Student, Term

WRITTEN_KINDS = ("written", "test", "control", "dictation", "essay", "lab", "practical",
                 "project")
HOMEWORK = ("Упражнение {n}", "Задачи № {n} и {m}", "Выучить правило, упражнение {n}",
            "Прочитать параграф {n}, ответить на вопросы", "Повторить материал урока, № {n}",
            "не задано")
NEUTRAL_TOPIC = "Обобщение и систематизация знаний"
NO_HOMEWORK = "не задано"
#: Clause 1.3: no homework in grade 1, and a day's homework within the norm for the age
#: (the checker's defaults: minutes a day for grades 2-3, 4-5, 6-8, 9-11).
HOMEWORK_FROM_GRADE = 2
HOMEWORK_NORMS = ((3, 90), (5, 120), (8, 150), (11, 210))
TARGET_MARKS = 4         # current marks per student, subject and term that teachers aim for
MIN_FINAL_MARKS = 3      # fewer than this and the term mark is "н/а" (not assessed)
MIN_MARKS_PER_LESSON = 3
#: Clause 4.4: no "2" at the first lessons after an absence of this many lessons or more.
LONG_ABSENCE_LESSONS = 3
#: Share of terms whose platform outage is Kundoluk's own, nationwide (``school_id: "*"``).
NATIONWIDE_OUTAGE_SHARE = 0.4
#: Share of a joiner's subjects whose term mark the teacher never enters, per unit of the
#: ``final_mark.late`` rate (a joiner is easily forgotten).
JOINER_LATE_FACTOR = 30.0
#: Share of marks sent without ``lesson_id`` (the contract allows it: a journal column only).
LOOSE_MARK_SHARE = 0.05
#: Chance per class and quarter of a short physical-education exemption (a few days).
SHORT_EXEMPTION_SHARE = 0.3


def round_half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


#: Events that carry the subject's name beside its id (contract v1.1).
NAMED_SUBJECT_TYPES = frozenset({"lesson.recorded", "mark.recorded"})


@dataclass
class Lesson:
    lesson_id: str
    school_class: SchoolClass
    slot: Slot
    day: date
    planned: PlannedLesson
    term: Term
    index: int                   # position among its class-subject-subgroup's lessons
    dropped: bool = False        # never recorded (program.behind_plan)

    @property
    def stream(self) -> tuple[str, str, str | None]:
        return (self.school_class.class_id, self.slot.subject_id, self.slot.subgroup)


@dataclass
class MarkState:
    """What the generator knows of one student's marks in one subject and term (the
    half-year, for a class marked by half-years)."""

    values: list[int] = field(default_factory=list)
    cap: int | None = None          # insufficient-marks fault: stop at this many
    blocked_until: date | None = None  # no-follow-up fault: no mark before this date
    #: lesson id -> "followup" | "fail_after_absence": a mark the student must get there
    forced: dict[str, str] = field(default_factory=dict)
    forced_days: set[date] = field(default_factory=set)  # the days of those lessons


@dataclass
class Timeline:
    """A student's lessons so far (every subject, in timetable order), as the checker's
    long-absence rule reads them: the last run of consecutive absences, and the subjects
    attended since it ended."""

    last_run: int = 0
    in_run: bool = False
    attended_since: set[str] = field(default_factory=set)

    def missed_before(self, subject_id: str) -> int:
        """Lessons missed in a row before this lesson of ``subject_id``, when it is the first
        of its subject since they were missed (else 0)."""
        return 0 if subject_id in self.attended_since else self.last_run

    def see(self, subject_id: str, absent: bool) -> None:
        if absent:
            if not self.in_run:
                self.in_run, self.last_run, self.attended_since = True, 0, set()
            self.last_run += 1
        else:
            self.in_run = False
            self.attended_since.add(subject_id)


class Simulation:
    """One school's activity over whole terms; iterate :meth:`events`."""

    def __init__(self, school: School, rates: FaultRates, *, seed: int,
                 terms: tuple[int, ...] = (1,)) -> None:
        self.school = school
        self.rates = rates
        self.seed = seed
        self.rng = random.Random(f"activity:{school.school_id}:{seed}")
        self.fault_rng = random.Random(f"faults:{school.school_id}:{seed}")
        self.zone = ZoneInfo(school.calendar.timezone)
        self.terms = tuple(school.calendar.terms[n - 1] for n in terms)
        self.faults: list[PlantedFault] = []
        self._counter = 0
        self._heap: list[tuple[datetime, int, dict[str, Any]]] = []
        self._teachers = sorted(school.teachers)
        self._outages: list[tuple[datetime, datetime]] = []
        self._quarter_marks: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._final_meta: dict[tuple[str, str], tuple[str, str]] = {}  # class, teacher
        calendar = school.calendar
        self._terms_by_id = {t.term_id: t for t in (*calendar.terms, *calendar.half_years)}
        # who is in which class when (roster changes are known in advance)
        self._joined = {c.student.student_id: c.day for c in school.roster_changes if c.joins}
        self._left = {c.student.student_id: c.day for c in school.roster_changes
                      if not c.joins}
        self._joiners: dict[str, list[Student]] = defaultdict(list)
        for change in school.roster_changes:
            if change.joins:
                self._joiners[change.class_id].append(change.student)
        self._rostered: dict[str, tuple[str, ...]] = {}  # class -> students of its last roster
        self._profiled: set[str] = set()
        self._members: dict[tuple[str, date], list[Student]] = {}  # class, day -> students
        self._timelines: dict[str, Timeline] = defaultdict(Timeline)
        self._run_before: dict[str, int] = {}  # student -> missed in a row, at this lesson
        self._absent_days: dict[str, set[date]] = defaultdict(set)  # long absences
        self._overloaded_days: set[tuple[str, date]] = set()  # homework.load.excessive
        #: student -> (from which day they stop visiting the journal, who: student,
        #: parents or both) (journal.not_visited)
        self._idle_visitors: dict[str, tuple[date, str]] = {}
        self._whole_exempt: dict[str, set[str]] = defaultdict(set)  # term id -> students
        self._exempt_decided: set[tuple[str, str]] = set()  # (class, term id)
        self._short_exempt: dict[str, list[tuple[date, date]]] = defaultdict(list)
        self._final_faults: dict[tuple[str, str, str], str] = {}  # student, subject, term
        self._behind_planted: set[tuple[str, str, str | None, str]] = set()
        self._carried: dict[tuple[str, str], MarkState] = {}  # half-year classes' states
        self._classes_by_student = {s.student_id: c for c in school.classes
                                    for s in (*c.students, *self._joiners[c.class_id])}

    # the clock ---------------------------------------------------------------
    @property
    def as_of(self) -> datetime:
        """When the result is judged: 8 days after the last simulated term ends."""
        return self.local(self.terms[-1].end + timedelta(days=9), time(0, 0))

    def local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.zone)

    def lesson_times(self, day: date, period: int) -> tuple[datetime, datetime]:
        start, end = self.school.calendar.bell_times[period - 1]
        return self.local(day, start), self.local(day, end)

    def school_days_after(self, day: date, count: int) -> date:
        """The ``count``-th school day after ``day``."""
        current, seen = day, 0
        while seen < count:
            current += timedelta(days=1)
            if self.school.calendar.is_school_day(current):
                seen += 1
            if current > day + timedelta(days=60):
                break
        return current

    def in_outage(self, moment: datetime) -> tuple[datetime, datetime] | None:
        for start, end in self._outages:
            if start <= moment <= end:
                return start, end
        return None

    # who, when ----------------------------------------------------------------
    def member(self, student_id: str, day: date) -> bool:
        """In their class on ``day``: joined by then (if a joiner), not yet left."""
        joined, left = self._joined.get(student_id), self._left.get(student_id)
        return (joined is None or joined <= day) and (left is None or day < left)

    def stays(self, student_id: str) -> bool:
        """In the class the whole year: neither a joiner nor a leaver."""
        return student_id not in self._joined and student_id not in self._left

    def class_students(self, school_class: SchoolClass, day: date) -> list[Student]:
        key = (school_class.class_id, day)
        if key not in self._members:
            if len(self._members) > 1000:  # (kept for the day's lessons only)
                self._members.clear()
            self._members[key] = [
                s for s in (*school_class.students, *self._joiners[school_class.class_id])
                if self.member(s.student_id, day)]
        return self._members[key]

    def stream_students(self, school_class: SchoolClass, subject_id: str,
                        subgroup: str | None, day: date) -> list[Student]:
        return [s for s in self.class_students(school_class, day)
                if subgroup is None or s.subgroups.get(subject_id) == subgroup]

    def plan_term(self, school_class: SchoolClass, quarter: Term) -> Term:
        """The term a class is planned and marked by in ``quarter``: it, or its half-year."""
        if school_class.by_half_years:
            return self.school.calendar.half_year_of(quarter)
        return quarter

    def first_simulated_quarter(self, term: Term) -> Term:
        return next(q for q in self.terms if term.start <= q.start <= term.end)

    def exempt_on(self, student_id: str, subject_id: str, day: date,
                  school_class: SchoolClass) -> bool:
        """Exempt from the lesson (physical education): for the whole term, or a few days."""
        if subject_id != "pe":
            return False
        quarter = self.school.calendar.term_of(day)
        if quarter is not None and student_id in self._whole_exempt[
                self.plan_term(school_class, quarter).term_id]:
            return True
        return any(start <= day <= end for start, end in self._short_exempt[student_id])

    def markable(self, student: str, subject_id: str, day: date,
                 school_class: SchoolClass) -> bool:
        """The student can be given a mark in ``subject_id`` on ``day`` (a follow-up)."""
        return (self.member(student, day) and day not in self._absent_days[student]
                and not self.exempt_on(student, subject_id, day, school_class))

    # output ------------------------------------------------------------------
    def emit(self, event_type: str, at: datetime, data: dict[str, Any],
             school_id: str | None = None, event_id: str | None = None) -> None:
        if (outage := self.in_outage(at)) is not None:
            # Nobody can enter anything during an outage: it comes right after, within the
            # grace, and in the same order as it would have (a correction stays later).
            started, ended = outage
            at = ended + timedelta(minutes=1) + (at - started) / 60
        if event_type in NAMED_SUBJECT_TYPES and "subject_name" not in data:
            subject = self.school.subjects.get(str(data.get("subject_id")))
            if subject is not None:  # the subject as the journal names it (contract v1.1)
                data = {**data, "subject_name": subject.name}
        self._counter += 1
        event = {
            "id": event_id or f"{self.school.school_id}-e{self._counter:08d}",
            "type": event_type,
            "school_id": school_id or self.school.school_id,
            "occurred_at": at.isoformat(timespec="seconds"),
            "data": data,
        }
        heapq.heappush(self._heap, (at, self._counter, event))

    def _release(self, before: datetime) -> Iterator[dict[str, Any]]:
        while self._heap and self._heap[0][0] < before:
            yield heapq.heappop(self._heap)[2]

    def plant(self, rule: str, day: date, **entity: Any) -> None:
        self.faults.append(PlantedFault(rule=rule, school_id=self.school.school_id,
                                        date=day.isoformat(), **entity))

    def chance(self, rule: str, factor: float = 1.0) -> bool:
        rate = min(1.0, self.rates[rule] * factor)
        return rate > 0 and self.fault_rng.random() < rate

    # the year ----------------------------------------------------------------
    def events(self) -> Iterator[dict[str, Any]]:
        self._setup_events()
        for term in self.terms:
            yield from self._term(term)
        yield from self._release(self.as_of + timedelta(days=365))

    def _setup_events(self) -> None:
        school, calendar = self.school, self.school.calendar
        before = self.local(calendar.terms[0].start - timedelta(days=6), time(10, 0))
        minute = timedelta(minutes=1)
        self.emit("school.calendar", before, {
            "school_name": school.name, "school_address": school.address,
            "director_name": school.director_name,
            "deputy_directors": [{"full_name": name, "responsibility": area}
                                 for name, area in school.deputy_directors],
            "academic_year": calendar.academic_year, "timezone": calendar.timezone,
            "language_of_instruction": school.language_of_instruction,
            "weekend": list(calendar.weekend),
            "terms": [{"id": t.term_id, "kind": t.kind, "number": t.number,
                       "start": t.start.isoformat(), "end": t.end.isoformat()}
                      for t in (*calendar.terms, *calendar.half_years, calendar.year_term)],
            "holidays": [d.isoformat() for d in calendar.holidays],
        })
        deputy = deputy_director(list(self._teachers))
        for teacher_id in self._teachers:
            teacher = school.teachers[teacher_id]
            self.emit("teacher.profile", before + minute,
                      {"teacher_id": teacher_id, "full_name": teacher.full_name,
                       **teacher_contacts(school.school_id, teacher_id, teacher.full_name,
                                          deputy=teacher_id == deputy)})
        for school_class in school.classes:
            # the class as it is when the simulated terms begin
            self._sync_roster(school_class, self.terms[0].start, before + 2 * minute)

    def _sync_roster(self, school_class: SchoolClass, day: date, at: datetime) -> None:
        """A roster snapshot of the class on ``day`` if it changed since the last one, with
        the profiles of students not seen before (joiners)."""
        students = self.class_students(school_class, day)
        ids = tuple(s.student_id for s in students)
        if self._rostered.get(school_class.class_id) == ids:
            return
        self._rostered[school_class.class_id] = ids
        self.emit("class.roster", at, {
            "class_id": school_class.class_id,
            "academic_year": self.school.calendar.academic_year,
            "grade": school_class.grade, "class_name": school_class.display_name,
            "homeroom_teacher_id": school_class.homeroom_teacher_id,
            "students": [{"student_id": s.student_id, "full_name": s.full_name,
                          "subgroups": dict(s.subgroups)} for s in students],
        })
        for student in students:
            if student.student_id in self._profiled:
                continue
            self._profiled.add(student.student_id)
            self.emit("student.profile", at + timedelta(minutes=1), {
                "student_id": student.student_id, "full_name": student.full_name,
                "birth_date": student.birth_date.isoformat(),
                "parents": [{"full_name": n, "relation": r, "phone": p,
                             **parent_contacts(self.school.school_id, student.student_id, i, n)}
                            for i, (n, r, p) in enumerate(student.parents)],
            })

    # one term ----------------------------------------------------------------
    def _term(self, term: Term) -> Iterator[dict[str, Any]]:
        school = self.school
        plans_start = self.local(term.start - timedelta(days=3), time(9, 0))
        for school_class in school.classes:  # changes made while no term was simulated
            self._sync_roster(school_class, term.start, plans_start - timedelta(minutes=5))
        self._skipped_checks(term)
        for plan in school.plans:
            plan_term = self._terms_by_id[plan.term_id]
            if not plan_term.start <= term.start <= plan_term.end or (
                    self.first_simulated_quarter(plan_term) != term):
                continue  # a half-year's plan comes once, before its first simulated quarter
            # (of a half-year, the lessons of its simulated quarters)
            planned = [p for p in plan.lessons
                       if any(q.start <= p.planned_date <= q.end for q in self.terms)]
            self.emit("subject.plan", plans_start, {
                "class_id": plan.class_id, "subject_id": plan.subject_id,
                "subject_name": school.subjects[plan.subject_id].name,
                "subgroup": plan.subgroup, "teacher_id": plan.teacher_id,
                "term_id": plan.term_id,
                "lessons": [{"number": p.number, "planned_date": p.planned_date.isoformat(),
                             "topic": p.topic} for p in planned],
            })
        lessons = self._lessons_of(term)
        self._choose_outage(term, lessons)
        self._choose_exemptions(term, plans_start)
        by_stream: dict[tuple[str, str, str | None], list[Lesson]] = defaultdict(list)
        for lesson in lessons:
            by_stream[lesson.stream].append(lesson)
        self._plan_stream_faults(term, by_stream)
        marks: dict[tuple[str, str], MarkState] = defaultdict(MarkState)
        marks.update(self._carried)  # a half-year's marks so far
        self._plan_student_faults(term, by_stream, marks)
        by_day: dict[date, list[Lesson]] = defaultdict(list)
        for lesson in lessons:
            if not lesson.dropped:
                by_day[lesson.day].append(lesson)
        self._plan_long_absences(term, by_day, by_stream, marks)
        self._plan_idle_visitors(term)
        changes: dict[date, set[str]] = defaultdict(set)
        for change in school.roster_changes:
            changes[change.day].add(change.class_id)
        classes = {c.class_id: c for c in school.classes}
        day = term.start
        while day <= term.end:
            for class_id in sorted(changes.get(day, ())):  # the class teacher updates the list
                self._sync_roster(classes[class_id], day, self.local(day, time(7, 30)))
            for lesson in sorted(by_day.get(day, []),
                                 key=lambda item: (item.school_class.class_id, item.slot.period,
                                                   item.slot.subgroup or "")):
                self._lesson(lesson, by_stream[lesson.stream], marks)
            if day == term.end:  # final marks may be entered on the last day itself
                self._term_end(term, by_stream, marks)
            self._journal_visits(day)
            yield from self._release(self.local(day + timedelta(days=1), time(0, 0)))
            day += timedelta(days=1)
        self._carried = {key: state for key, state in marks.items()
                         if self._class_of(key[0]).by_half_years
                         and self.plan_term(self._class_of(key[0]), term).end > term.end}

    def _plan_idle_visitors(self, term: Term) -> None:
        """Clause 4.3: students, or their parents, who stop opening the journal three
        weeks before the end of the last simulated term (the checker's default: 14 days
        without a visit is a finding, when the school switches the rule on)."""
        if term is not self.terms[-1]:
            return
        for school_class in self.school.classes:
            for student in school_class.students:
                if self.stays(student.student_id) and self.chance("journal.not_visited"):
                    who = self.fault_rng.choice(("student", "parents", "both"))
                    self._idle_visitors[student.student_id] = (term.end - timedelta(days=20),
                                                               who)
                    self.plant("journal.not_visited", term.end,
                               class_id=school_class.class_id, student_id=student.student_id,
                               teacher_id=school_class.homeroom_teacher_id,
                               term_id=term.term_id, note=who)

    def _journal_visits(self, day: date) -> None:
        """Kundoluk's daily count of visits per student and per student's parents.

        Deterministic per student and day (no draw from the activity's generators):
        students come on most days and at least every fifth, parents on about a third
        of the days and at least every seventh."""
        at = self.local(day + timedelta(days=1), time(0, 30))
        index = day.toordinal()
        for school_class in self.school.classes:
            visits = []
            for student in self.class_students(school_class, day):
                sid = student.student_id
                digest = zlib.crc32(f"{sid}|{day.isoformat()}".encode())
                student_visits = 1 + digest % 3 if digest % 4 or index % 5 == 0 else 0
                parent_visits = 1 if digest // 4 % 3 == 0 or index % 7 == 0 else 0
                idle = self._idle_visitors.get(sid)
                if idle is not None and day >= idle[0]:
                    if idle[1] in ("student", "both"):
                        student_visits = 0
                    if idle[1] in ("parents", "both"):
                        parent_visits = 0
                visits.append({"student_id": sid, "student_visits": student_visits,
                               "parent_visits": parent_visits})
            self.emit("journal.visits", at, {"class_id": school_class.class_id,
                                             "date": day.isoformat(), "visits": visits})

    def _skipped_checks(self, term: Term) -> None:
        """The personal-data checks of the quarters skipped before ``term`` (``terms=(2,)``:
        the school's first quarter happened, it is only not simulated)."""
        earlier = [q for q in self.terms if q.start < term.start]
        since = earlier[-1].end if earlier else date.min
        for quarter in self.school.calendar.terms:
            if since < quarter.end < term.start:
                for school_class in self.school.classes:
                    self.emit("personal_data.verified",
                              self.local(quarter.end + timedelta(days=2), time(11, 0)),
                              {"class_id": school_class.class_id, "term_id": quarter.term_id,
                               "verified_by": school_class.homeroom_teacher_id})

    def _class_of(self, student_id: str) -> SchoolClass:
        return self._classes_by_student[student_id]

    def _lessons_of(self, term: Term) -> list[Lesson]:
        classes = {c.class_id: c for c in self.school.classes}
        lessons = []
        for plan in self.school.plans:
            plan_term = self._terms_by_id[plan.term_id]
            if not plan_term.start <= term.start <= plan_term.end:
                continue
            school_class = classes[plan.class_id]
            slots = sorted((s for s in school_class.timetable
                            if s.subject_id == plan.subject_id and s.subgroup == plan.subgroup),
                           key=lambda s: (s.weekday, s.period))
            used: dict[date, int] = defaultdict(int)
            for index, planned in enumerate(plan.lessons):
                day_slots = [s for s in slots if s.weekday == planned.planned_date.weekday()]
                slot = day_slots[min(used[planned.planned_date], len(day_slots) - 1)]
                used[planned.planned_date] += 1
                if not term.start <= planned.planned_date <= term.end:
                    continue  # the other quarter of a half-year
                group = f"-g{slot.subgroup}" if slot.subgroup else ""
                lessons.append(Lesson(
                    lesson_id=(f"{self.school.school_id}-{school_class.class_id}-"
                               f"{planned.planned_date:%Y%m%d}-p{slot.period}{group}"),
                    school_class=school_class, slot=slot, day=planned.planned_date,
                    planned=planned, term=term, index=index))
        return lessons

    def _choose_outage(self, term: Term, lessons: list[Lesson]) -> None:
        """One outage per term: the school's own, or now and then Kundoluk's nationwide one
        (``school_id: "*"``), the same for every school of the seed."""
        nationwide = random.Random(f"nationwide-outage:{self.seed}:{term.term_id}")
        if nationwide.random() < NATIONWIDE_OUTAGE_SHARE:
            calendar = self.school.calendar
            days = [term.start + timedelta(days=d) for d in range((term.end - term.start).days)]
            days = [d for d in days if calendar.is_school_day(d)]
            school_id: str | None = "*"
            event_id: str | None = f"kundoluk-outage-{term.term_id}-{self.seed}"
        else:
            days = sorted({lesson.day for lesson in lessons})
            school_id = event_id = None
            nationwide = self.rng
        middle = days[len(days) // 3: 2 * len(days) // 3] or days
        day = nationwide.choice(middle)
        start, end = self.local(day, time(13, 0)), self.local(day, time(21, 0))
        self._outages.append((start, end))
        self._outage_days = {day + timedelta(days=offset) for offset in range(-8, 2)}
        self.emit("platform.outage", end + timedelta(minutes=5),
                  {"started_at": start.isoformat(), "ended_at": end.isoformat()},
                  school_id=school_id, event_id=event_id)

    def _choose_exemptions(self, term: Term, at: datetime) -> None:
        """Physical education: now and then a student exempt for the whole term (quarter or
        half-year), and a few days' exemptions, which do not exempt from the term mark."""
        calendar = self.school.calendar
        school_days = [term.start + timedelta(days=d)
                       for d in range((term.end - term.start).days + 1)]
        school_days = [d for d in school_days if calendar.is_school_day(d)]
        for school_class in self.school.classes:
            plan_term = self.plan_term(school_class, term)
            stayers = [s for s in school_class.students if self.stays(s.student_id)]
            whole = self._whole_exempt[plan_term.term_id]
            if (school_class.class_id, plan_term.term_id) not in self._exempt_decided:
                self._exempt_decided.add((school_class.class_id, plan_term.term_id))
                if self.rng.random() < 0.5:
                    student = self.rng.choice(stayers)
                    whole.add(student.student_id)
                    self.emit("exemption.recorded", at, {
                        "student_id": student.student_id, "subject_id": "pe",
                        "from": (plan_term.start - timedelta(days=5)).isoformat(),
                        "to": (plan_term.end + timedelta(days=5)).isoformat(),
                        "reason": "освобождение по справке врача"})
            if self.rng.random() < SHORT_EXEMPTION_SHARE:
                student = self.rng.choice([s for s in stayers if s.student_id not in whole])
                first = self.rng.choice(school_days[3:-10])
                last = first + timedelta(days=self.rng.randint(2, 6))
                self._short_exempt[student.student_id].append((first, last))
                self.emit("exemption.recorded", self.local(first, time(7, 45)), {
                    "student_id": student.student_id, "subject_id": "pe",
                    "from": first.isoformat(), "to": last.isoformat(),
                    "reason": "справка после болезни"})

    # faults decided before the term starts ------------------------------------
    def _plan_stream_faults(self, term: Term,
                            by_stream: dict[tuple[str, str, str | None], list[Lesson]]) -> None:
        self._density_low: set[tuple[tuple[str, str, str | None], int]] = set()
        for stream, stream_lessons in sorted(by_stream.items(), key=lambda kv: str(kv[0])):
            class_id, subject_id, subgroup = stream
            plan_term = self.plan_term(stream_lessons[0].school_class, term)
            candidates = [lesson for lesson in stream_lessons[2:-2]
                          if lesson.planned.assessment is None
                          and lesson.day not in self._outage_days]
            planned_once = (*stream, plan_term.term_id)  # a half-year's plan: one finding
            if (len(candidates) >= 4 and planned_once not in self._behind_planted
                    and self.chance("program.behind_plan")):
                self._behind_planted.add(planned_once)
                for lesson in self.fault_rng.sample(candidates, 2):
                    lesson.dropped = True
                self.plant("program.behind_plan", term.end, class_id=class_id,
                           subject_id=subject_id, subgroup=subgroup, term_id=plan_term.term_id,
                           teacher_id=stream_lessons[0].slot.teacher_id)
            grade = stream_lessons[0].school_class.grade
            if grade < 2:
                continue
            windows = defaultdict(list)
            for lesson in stream_lessons:
                if not lesson.dropped:
                    windows[(lesson.day - term.start).days // 14].append(lesson)
            full = [w for w, items in sorted(windows.items())
                    if len(items) >= 2 and w < max(windows)
                    and not any(i.day in self._outage_days for i in items)]
            if full and self.chance("marks.density.low"):
                window = self.fault_rng.choice(full)
                self._density_low.add((stream, window))
                self.plant("marks.density.low", term.start + timedelta(days=14 * window),
                           class_id=class_id, subject_id=subject_id, subgroup=subgroup,
                           term_id=term.term_id, teacher_id=stream_lessons[0].slot.teacher_id)

    def _plan_student_faults(self, term: Term,
                             by_stream: dict[tuple[str, str, str | None], list[Lesson]],
                             marks: dict[tuple[str, str], MarkState]) -> None:
        """Term-mark faults, decided once per term (quarter or half-year) for the students
        who are in the class all year (a joiner's own case comes at the term's end)."""
        for stream, stream_lessons in sorted(by_stream.items(), key=lambda kv: str(kv[0])):
            school_class = stream_lessons[0].school_class
            plan_term = self.plan_term(school_class, term)
            if school_class.grade < 2 or self.first_simulated_quarter(plan_term) != term:
                continue
            for student in self.stream_students(school_class, stream[1], stream[2],
                                                plan_term.end):
                key = (student.student_id, stream[1])
                if not self.stays(student.student_id) or (
                        stream[1] == "pe"
                        and student.student_id in self._whole_exempt[plan_term.term_id]):
                    continue
                fault_key = (*key, plan_term.term_id)
                if self.chance("final_mark.insufficient_marks"):
                    marks[key].cap = 2
                    self._final_faults[fault_key] = "final_mark.insufficient_marks"
                elif self.chance("final_mark.inconsistent"):
                    self._final_faults[fault_key] = "final_mark.inconsistent"
                elif self.chance("final_mark.late"):
                    self._final_faults[fault_key] = "final_mark.late"

    def _plan_long_absences(self, term: Term, by_day: dict[date, list[Lesson]],
                            by_stream: dict[tuple[str, str, str | None], list[Lesson]],
                            marks: dict[tuple[str, str], MarkState]) -> None:
        """``mark.failing.after_absence``: a student ill for one or two whole school days
        (3 lessons or more), then a "2" at their first lesson back, followed up later."""
        calendar = self.school.calendar
        days = sorted(day for day in by_day if calendar.is_school_day(day))
        capped = {student for (student, _), state in marks.items() if state.cap is not None}
        for school_class in self.school.classes:
            if school_class.grade < 2:
                continue
            for student in school_class.students:
                sid = student.student_id
                if not self.stays(sid) or sid in capped or len(days) < 12 or not self.chance(
                        "mark.failing.after_absence"):
                    continue
                for _attempt in range(10):
                    first = self.fault_rng.randrange(3, len(days) - 8)
                    missed = days[first:first + self.fault_rng.randint(1, 2)]
                    back = days[first + len(missed)]
                    if self._plan_long_absence(school_class, student, missed=missed, back=back,
                                               by_day=by_day, by_stream=by_stream, marks=marks):
                        break

    def _plan_long_absence(self, school_class: SchoolClass, student: Student, *,
                           missed: list[date], back: date, by_day: dict[date, list[Lesson]],
                           by_stream: dict[tuple[str, str, str | None], list[Lesson]],
                           marks: dict[tuple[str, str], MarkState]) -> bool:
        def own(day: date) -> list[Lesson]:
            return sorted((lesson for lesson in by_day.get(day, [])
                           if lesson.school_class is school_class
                           and (lesson.slot.subgroup is None or student.subgroups.get(
                               lesson.slot.subject_id) == lesson.slot.subgroup)),
                          key=lambda lesson: lesson.slot.period)

        sid = student.student_id
        lessons_missed = sum(len(own(day)) for day in missed)
        returning = own(back)
        if lessons_missed < LONG_ABSENCE_LESSONS or not returning:
            return False
        lesson = returning[0]
        subject_id = lesson.slot.subject_id
        following = next((item for item in by_stream[lesson.stream]
                          if not item.dropped and item.day > back), None)
        if (following is None or following.day > self.school_days_after(back, 3)
                or any(day in self._outage_days for day in (*missed, back, following.day))
                or self.exempt_on(sid, subject_id, back, school_class)
                or self.exempt_on(sid, subject_id, following.day, school_class)):
            return False
        self._absent_days[sid].update(missed)
        state = marks[(sid, subject_id)]
        state.forced[lesson.lesson_id] = "fail_after_absence"
        state.forced[following.lesson_id] = "followup"
        state.forced_days |= {back, following.day}
        return True

    def _students_of(self, lesson: Lesson) -> list[Student]:
        return self.stream_students(lesson.school_class, lesson.slot.subject_id,
                                    lesson.slot.subgroup, lesson.day)

    # one lesson --------------------------------------------------------------
    def _lesson(self, lesson: Lesson, stream: list[Lesson],
                marks: dict[tuple[str, str], MarkState]) -> None:
        start, end = self.lesson_times(lesson.day, lesson.slot.period)
        quiet = lesson.day in self._outage_days
        subject = self.school.subjects[lesson.slot.subject_id]
        teacher_id = scheduled_id = lesson.slot.teacher_id
        is_substitution = False
        topic = lesson.planned.topic
        homework = self.rng.choice(HOMEWORK).format(n=self.rng.randint(1, 400),
                                                   m=self.rng.randint(1, 400))
        grade = lesson.school_class.grade
        homework_fault: str | None = None
        if grade < HOMEWORK_FROM_GRADE:
            homework = NO_HOMEWORK
            if not quiet and self.chance("homework.grade_not_allowed"):
                homework_fault, homework = "homework.grade_not_allowed", HOMEWORK[0].format(n=12)
        elif not quiet and homework != NO_HOMEWORK:
            homework_fault = self._homework_fault(lesson, stream)
        minutes = self._homework_minutes(lesson, homework, homework_fault)
        fault: str | None = None
        base = {"lesson_id": lesson.lesson_id, "class_id": lesson.school_class.class_id,
                "subject_id": subject.subject_id, "subgroup": lesson.slot.subgroup,
                "teacher_id": teacher_id}
        same_day = [other for other in stream if other.day == lesson.day and not other.dropped]
        if not quiet:
            fault = self._lesson_fault(lesson, subject.is_language, same_day)
        if fault == "substitution.unrecorded":
            teacher_id = self._other_teacher(scheduled_id)
        elif self.rng.random() < 0.01 and lesson.slot.subgroup is None:
            teacher_id, is_substitution = self._other_teacher(scheduled_id), True
        elif fault == "subgroup.wrong_teacher":
            partner = next((s for s in lesson.school_class.timetable
                            if s.weekday == lesson.slot.weekday and s.period == lesson.slot.period
                            and s.subject_id == lesson.slot.subject_id
                            and s.subgroup != lesson.slot.subgroup), None)
            teacher_id = scheduled_id = partner.teacher_id if partner else scheduled_id
        kyrgyz_school = self.school.language_of_instruction == "ky"
        if fault == "topic.placeholder":
            topic = self.fault_rng.choice(PLACEHOLDER_TOPICS + (KYRGYZ_PLACEHOLDERS if
                                                                kyrgyz_school else ()))
        elif fault == "topic.abbreviation":
            topic = f"{topic}, {self.fault_rng.choice(ABBREVIATED_TOPICS)}"
        elif fault == "topic.language":
            topic = self.fault_rng.choice(TRANSLITERATED_TOPICS if kyrgyz_school
                                          else FOREIGN_TOPICS)
        elif fault == "topic.assessment_unnamed":
            topic = NEUTRAL_TOPIC
        elif fault == "topic.double_lesson_duplicate":
            topic = self._retyped(same_day[0].planned.topic)
        if fault is not None:
            self.plant(fault, lesson.day, lesson_id=lesson.lesson_id,
                       class_id=lesson.school_class.class_id, subject_id=subject.subject_id,
                       subgroup=lesson.slot.subgroup, teacher_id=teacher_id,
                       term_id=lesson.term.term_id)
        entered = end + timedelta(minutes=self.rng.randint(0, 180))
        if homework_fault == "homework.not_ahead" and fault is None:
            # entered late in the evening before a lesson the next day: on time, not ahead
            entered = self.local(lesson.day, time(21, 0)) + timedelta(
                minutes=self.fault_rng.randint(0, 60))
        elif homework_fault == "homework.not_ahead":
            homework_fault = None
        if homework_fault is not None:
            self._plant_homework(homework_fault, lesson, teacher_id)
        recorded = {**base, "date": lesson.day.isoformat(), "period": lesson.slot.period,
                    "teacher_id": teacher_id, "scheduled_teacher_id": scheduled_id,
                    "is_substitution": is_substitution, "topic": topic, "homework": homework,
                    "homework_minutes": minutes}
        next_day = self.local(lesson.day + timedelta(days=1), time(9, 0)) + timedelta(
            minutes=self.rng.randint(0, 600))
        if fault == "lesson.topic.late":
            self.emit("lesson.recorded", entered, {**recorded, "topic": ""})
            self.emit("lesson.recorded", next_day, recorded)
        elif fault == "homework.late":
            self.emit("lesson.recorded", entered, {**recorded, "homework": ""})
            self.emit("lesson.recorded", next_day, recorded)
        else:
            self.emit("lesson.recorded", entered, recorded)
            if not quiet and self.rng.random() < 0.02:  # corrected the same day: on time
                corrected = {**recorded, "homework": f"{homework}, повторить"
                             if homework != NO_HOMEWORK else "не задано."}
                self.emit("lesson.recorded", entered + timedelta(minutes=40), corrected)
        if not quiet and self.rng.random() < 0.003:
            self._mistaken_lesson(lesson, recorded, entered)
        absent = self._attendance(lesson, marks, late=fault == "attendance.late", start=start,
                                  next_day=next_day, quiet=quiet, teacher_id=teacher_id)
        if lesson.school_class.grade >= 2:
            self._marks(lesson, stream, marks, absent=absent, teacher_id=teacher_id, end=end,
                        quiet=quiet)

    def _homework_fault(self, lesson: Lesson, stream: list[Lesson]) -> str | None:
        """Clause 1.3's daily load (once per class and day) or 3.7's notice: the next
        lesson of the stream is the next day, so an evening entry leaves no time."""
        key = (lesson.school_class.class_id, lesson.day)
        if key not in self._overloaded_days and self.chance("homework.load.excessive"):
            self._overloaded_days.add(key)
            return "homework.load.excessive"
        following = next((item for item in stream if item.day > lesson.day and not item.dropped),
                         None)
        if (following is not None and following.day == lesson.day + timedelta(days=1)
                and following.day not in self._outage_days
                and self.chance("homework.not_ahead")):
            return "homework.not_ahead"
        return None

    def _homework_minutes(self, lesson: Lesson, homework: str,
                          homework_fault: str | None) -> int | None:
        """The teacher's estimate: within the age norm for a full day of lessons (one
        in ten homeworks has none), or, planted, the whole norm by itself and more."""
        if homework == NO_HOMEWORK or lesson.school_class.grade < HOMEWORK_FROM_GRADE:
            return None
        norm = next(minutes for top, minutes in HOMEWORK_NORMS
                    if lesson.school_class.grade <= top)
        if homework_fault == "homework.load.excessive":
            return norm + 5
        digest = zlib.crc32(lesson.lesson_id.encode())
        if digest % 10 == 0:
            return None
        return 5 + digest // 10 % max(1, norm // 8 - 4)

    def _plant_homework(self, rule: str, lesson: Lesson, teacher_id: str) -> None:
        if rule == "homework.load.excessive":
            self.plant(rule, lesson.day, class_id=lesson.school_class.class_id,
                       term_id=lesson.term.term_id)
        else:
            self.plant(rule, lesson.day, lesson_id=lesson.lesson_id,
                       class_id=lesson.school_class.class_id,
                       subject_id=lesson.slot.subject_id, subgroup=lesson.slot.subgroup,
                       teacher_id=teacher_id, term_id=lesson.term.term_id)

    def _lesson_fault(self, lesson: Lesson, is_language: bool,
                      same_day: list[Lesson]) -> str | None:
        assessment = lesson.planned.assessment is not None
        whole_class = lesson.slot.subgroup is None
        later_of_a_pair = len(same_day) > 1 and same_day[0] is not lesson
        options = [
            ("lesson.topic.late", True), ("homework.late", True), ("attendance.late", True),
            ("substitution.unrecorded", whole_class),
            ("subgroup.wrong_teacher", not whole_class),
            ("topic.placeholder", not assessment and len(same_day) == 1),
            ("topic.abbreviation", not assessment and len(same_day) == 1),
            ("topic.language", not assessment and not is_language and len(same_day) == 1),
            ("topic.assessment_unnamed", assessment and len(same_day) == 1),
            ("topic.double_lesson_duplicate",
             later_of_a_pair and not assessment and same_day[0].planned.assessment is None),
        ]
        for rule, eligible in options:
            if eligible and self.chance(rule):
                return rule
        return None

    def _retyped(self, topic: str) -> str:
        """The first lesson's topic typed again, as teachers do: the same, or differing
        only in case or punctuation."""
        how = self.fault_rng.randrange(5)
        if how == 1:
            return topic[:1].lower() + topic[1:]
        if how == 2:
            return topic + "."
        if how == 3:
            return topic.upper()
        if how == 4:
            return topic.replace("«", '"').replace("»", '"').replace(":", ",")
        return topic

    def _other_teacher(self, teacher_id: str) -> str:
        others = [t for t in self._teachers if t != teacher_id]
        return self.rng.choice(others)

    def _mistaken_lesson(self, lesson: Lesson, recorded: dict[str, Any],
                         entered: datetime) -> None:
        """A lesson recorded twice by mistake, and the copy deleted the same day."""
        copy_id = lesson.lesson_id + "-dup"
        self.emit("lesson.recorded", entered + timedelta(minutes=2),
                  {**recorded, "lesson_id": copy_id})
        self.emit("lesson.deleted", entered + timedelta(minutes=15), {"lesson_id": copy_id})

    # attendance ---------------------------------------------------------------
    def _attendance(self, lesson: Lesson, marks: dict[tuple[str, str], MarkState], *,
                    late: bool, start: datetime, next_day: datetime, quiet: bool,
                    teacher_id: str) -> set[str]:
        subject_id = lesson.slot.subject_id
        absent: dict[str, str | None] = {}
        for student in self._students_of(lesson):
            sid = student.student_id
            forced = marks[(sid, subject_id)].forced.get(lesson.lesson_id)
            if lesson.day in self._absent_days[sid]:  # ill for the whole day
                absent[sid] = "illness"
            elif forced is None and self.rng.random() < 0.03:
                absent[sid] = self.rng.choice(("illness", "excused", "unexcused"))
            timeline = self._timelines[sid]
            self._run_before[sid] = timeline.missed_before(subject_id)
            timeline.see(subject_id, sid in absent)
        late_students = [s.student_id for s in self._students_of(lesson)
                         if s.student_id not in absent and self.rng.random() < 0.02]
        reason_missing: str | None = None
        judgeable = self.local(self.school_days_after(lesson.day, 3) + timedelta(days=1),
                               time(0, 0)) < self.as_of
        if absent and not quiet and judgeable and self.chance("absence.reason_missing"):
            reason_missing = sorted(absent)[0]
            self.plant("absence.reason_missing", lesson.day, lesson_id=lesson.lesson_id,
                       student_id=reason_missing, class_id=lesson.school_class.class_id,
                       subject_id=subject_id, term_id=lesson.term.term_id,
                       teacher_id=teacher_id)  # who recorded the lesson (a substitute too)
        sheet_at = start + timedelta(minutes=self.rng.randint(3, 40))
        if late:  # (recorded in the ground truth with the lesson's other faults)
            sheet_at = next_day
        filled_later = {sid for sid in absent
                        if sid != reason_missing and not quiet and self.rng.random() < 0.2}

        def sheet(reasons_known: bool) -> dict[str, Any]:
            return {"lesson_id": lesson.lesson_id, "late": late_students, "absent": [
                {"student_id": sid,
                 "reason": None if sid == reason_missing or (sid in filled_later
                                                              and not reasons_known) else reason}
                for sid, reason in sorted(absent.items())]}

        self.emit("attendance.recorded", sheet_at, sheet(reasons_known=False))
        if filled_later:  # the reasons come the next day, well within the 3 school days
            self.emit("attendance.recorded", max(sheet_at, next_day), sheet(reasons_known=True))
        return set(absent)

    # marks ----------------------------------------------------------------------
    def _marks(self, lesson: Lesson, stream: list[Lesson],
               marks: dict[tuple[str, str], MarkState], *, absent: set[str], teacher_id: str,
               end: datetime, quiet: bool) -> None:
        subject_id = lesson.slot.subject_id
        held = [item for item in stream if not item.dropped]
        position = held.index(lesson)
        remaining = len(held) - position
        # Clause 4.4 asks to question a student again within 2-3 days of a "2": on a later
        # day, not at the second lesson of a double.
        following = next((item for item in held[position + 1:] if item.day > lesson.day),
                         None)
        first_of_day = next(item for item in held if item.day == lesson.day) is lesson
        window = (lesson.stream, (lesson.day - lesson.term.start).days // 14)
        low_density = window in self._density_low
        school_class = lesson.school_class
        present = [s for s in self._students_of(lesson)
                   if s.student_id not in absent
                   and not self.exempt_on(s.student_id, subject_id, lesson.day, school_class)]
        states = {s.student_id: marks[(s.student_id, subject_id)] for s in present}
        chosen: list[tuple[str, str | None]] = []  # (student_id, special)
        for student in present:
            special = states[student.student_id].forced.get(lesson.lesson_id)
            if special in ("followup", "fail_after_absence"):
                chosen.append((student.student_id, special))

        def need(student_id: str) -> int:
            state = states[student_id]
            target = TARGET_MARKS if state.cap is None else state.cap
            return target - len(state.values)

        def may_get_a_mark(student_id: str) -> bool:
            state = states[student_id]
            blocked = state.blocked_until is not None and lesson.day <= state.blocked_until
            capped = state.cap is not None and len(state.values) >= state.cap
            return not blocked and not capped and student_id not in dict(chosen)

        total_need = sum(max(0, need(s.student_id)) for s in present)
        count = 1 if low_density else max(MIN_MARKS_PER_LESSON,
                                          math.ceil(total_need / remaining))
        count += 0 if low_density else self.rng.randint(0, 1)
        pool = [s.student_id for s in present if may_get_a_mark(s.student_id)]
        self.rng.shuffle(pool)
        pool.sort(key=lambda sid: -need(sid))
        if remaining <= MIN_FINAL_MARKS and not low_density:  # last chances to catch up
            short = [sid for sid in pool
                     if len(states[sid].values) < MIN_FINAL_MARKS and states[sid].cap is None]
            count = max(count, len(chosen) + len(short))
        chosen += [(sid, None) for sid in pool[:max(0, count - len(chosen))]]
        first_school_day = lesson.day == lesson.term.start or not any(
            self.school.calendar.is_school_day(lesson.term.start + timedelta(days=d))
            for d in range((lesson.day - lesson.term.start).days))
        window_end = self.school_days_after(lesson.day, 3)
        followup_ok = following is not None and following.day <= window_end
        for number, (student_id, special) in enumerate(chosen, start=1):
            state = states[student_id]
            value, work_type = self._mark_value_and_type(lesson)
            fault: str | None = None
            # Lessons missed in a row before this one, if it is the student's first lesson
            # of the subject since: a "2" here would be one after a long absence.
            missed = self._run_before.get(student_id, 0)
            if special == "fail_after_absence":
                if missed >= LONG_ABSENCE_LESSONS:  # (as planned: the run is long enough)
                    value, fault = 2, "mark.failing.after_absence"
            elif special == "followup":
                value = max(value, 3)
            elif (followup_ok and following is not None and not quiet and not low_density
                  and missed < LONG_ABSENCE_LESSONS and state.cap is None
                  and following.lesson_id not in state.forced
                  and self.markable(student_id, subject_id, following.day, school_class)):
                # (the follow-up must be possible, and a "2" must break no other rule)
                if first_school_day and self.chance("mark.failing.first_day_of_term"):
                    value, fault = 2, "mark.failing.first_day_of_term"
                elif (not first_school_day and remaining > len(held) // 2
                      and not any(lesson.day < day <= window_end for day in state.forced_days)
                      and self.chance("mark.failing.no_followup")):
                    value, fault = 2, "mark.failing.no_followup"
                    state.blocked_until = window_end
                elif not first_school_day and self.rng.random() < 0.03:
                    value = 2  # a fail, followed up at the next lesson
            if value == 2 and fault != "mark.failing.no_followup" and following is not None:
                state.forced.setdefault(following.lesson_id, "followup")
                state.forced_days.add(following.day)
            mark_id = f"{lesson.lesson_id}-m{number:02d}"
            entered = self._mark_entry(lesson, work_type, end)
            if (fault is None and not quiet and not low_density and special is None
                    and (work_type in WRITTEN_KINDS or work_type == "oral")
                    and lesson.day <= lesson.term.end - timedelta(days=14)
                    and self.chance("mark.late")):
                fault = "mark.late"
                days_late = self.fault_rng.randint(8, 10) if work_type in WRITTEN_KINDS else 1
                entered = self.local(lesson.day + timedelta(days=days_late), time(15, 0))
            if fault is not None:
                self.plant(fault, lesson.day, mark_id=mark_id, student_id=student_id,
                           class_id=lesson.school_class.class_id, subject_id=subject_id,
                           lesson_id=lesson.lesson_id, teacher_id=teacher_id,
                           term_id=lesson.term.term_id)
            state.values.append(value)
            # Now and then without lesson_id (a journal column only): the checker places it
            # at the first lesson of the class, subject and subgroup that day, so only there.
            loose = first_of_day and self.rng.random() < LOOSE_MARK_SHARE
            self._emit_mark(mark_id, student_id, lesson, teacher_id=teacher_id, day=lesson.day,
                            value=value, work_type=work_type, entered=entered, loose=loose)
            if not quiet and self.rng.random() < 0.01 and special is None and value >= 3:
                corrected = min(5, value + 1)  # a typo fixed within the hour
                state.values[-1] = corrected
                self._emit_mark(mark_id, student_id, lesson, teacher_id=teacher_id,
                                day=lesson.day, value=corrected, work_type=work_type,
                                entered=entered + timedelta(minutes=30), loose=loose)
        if present and not quiet and not low_density:
            self._extra_mark_faults(lesson, present, teacher_id, end, states)

    def _mark_value_and_type(self, lesson: Lesson) -> tuple[int, str]:
        value = self.rng.choices((5, 4, 3), weights=(35, 42, 23))[0]
        if lesson.planned.assessment is not None:
            return value, lesson.planned.assessment
        return value, self.rng.choices(("oral", "homework", "written"), weights=(6, 2, 2))[0]

    def _mark_entry(self, lesson: Lesson, work_type: str, end: datetime) -> datetime:
        if work_type in WRITTEN_KINDS:
            day = lesson.day + timedelta(days=self.rng.randint(0, 5))
            return max(end, self.local(day, time(16, 0))) + timedelta(
                minutes=self.rng.randint(0, 240))
        return end + timedelta(minutes=self.rng.randint(1, 200))

    def _emit_mark(self, mark_id: str, student_id: str, lesson: Lesson | None, *,
                   teacher_id: str, day: date, value: int | str, work_type: str | None,
                   entered: datetime, class_id: str | None = None,
                   subject_id: str | None = None, loose: bool = False) -> None:
        self.emit("mark.recorded", entered, {
            "mark_id": mark_id, "student_id": student_id,
            "class_id": class_id or (lesson.school_class.class_id if lesson else ""),
            "subject_id": subject_id or (lesson.slot.subject_id if lesson else ""),
            "teacher_id": teacher_id,
            "lesson_id": lesson.lesson_id if lesson and not loose else None,
            "date": day.isoformat(), "value": str(value), "work_type": work_type,
            "kind": "current", "term_id": None,
        })

    def _extra_mark_faults(self, lesson: Lesson, present: list[Student], teacher_id: str,
                           end: datetime, states: dict[str, MarkState]) -> None:
        """Marks that are wrong in themselves; they come on top of the lesson's marks."""
        # Not for a student meant to stay short of marks, nor one whose "2" must stay without
        # a follow-up: one more mark would undo that fault.
        week_ago = lesson.day - timedelta(days=7)
        uncapped = [s for s in present if states[s.student_id].cap is None
                    and (states[s.student_id].blocked_until or week_ago) <= week_ago]
        if not uncapped:
            return
        student = self.rng.choice(uncapped)
        entity = {"student_id": student.student_id, "class_id": lesson.school_class.class_id,
                  "subject_id": lesson.slot.subject_id, "teacher_id": teacher_id,
                  "term_id": lesson.term.term_id}
        entered = end + timedelta(minutes=self.rng.randint(1, 120))
        if self.chance("mark.value.invalid"):
            mark_id = f"{lesson.lesson_id}-x1"
            self.plant("mark.value.invalid", lesson.day, mark_id=mark_id,
                       lesson_id=lesson.lesson_id, **entity)
            self._emit_mark(mark_id, student.student_id, lesson, teacher_id=teacher_id,
                            day=lesson.day, value=self.fault_rng.choice(INVALID_MARK_VALUES),
                            work_type="oral", entered=entered)
        if self.chance("mark.work_type.missing"):
            mark_id = f"{lesson.lesson_id}-x2"
            self.plant("mark.work_type.missing", lesson.day, mark_id=mark_id,
                       lesson_id=lesson.lesson_id, **entity)
            states[student.student_id].values.append(4)
            self._emit_mark(mark_id, student.student_id, lesson, teacher_id=teacher_id,
                            day=lesson.day, value=4, work_type=None, entered=entered)
        if self.chance("mark.date.not_lesson"):
            day = self._day_without_lesson(lesson)
            if day is not None:
                mark_id = f"{lesson.lesson_id}-x3"
                self.plant("mark.date.not_lesson", day, mark_id=mark_id, **entity)
                states[student.student_id].values.append(5)
                # Entered today for an earlier date; a homework mark has no deadline, so
                # this breaks only the lesson-date rule.
                self._emit_mark(mark_id, student.student_id, None, teacher_id=teacher_id, day=day,
                                value=5, work_type="homework", entered=entered,
                                class_id=lesson.school_class.class_id,
                                subject_id=lesson.slot.subject_id)
        if self.rng.random() < 0.005:  # a mark given to the wrong student, then deleted
            mark_id = f"{lesson.lesson_id}-x4"
            self._emit_mark(mark_id, student.student_id, lesson, teacher_id=teacher_id,
                            day=lesson.day, value=3, work_type="oral", entered=entered)
            self.emit("mark.deleted", entered + timedelta(minutes=20), {"mark_id": mark_id})

    def _day_without_lesson(self, lesson: Lesson) -> date | None:
        """A school day before this lesson, in its term, when the class had no such lesson."""
        days_with = {lesson.day}
        days_with |= {lesson.day - timedelta(days=d) for d in range(1, 8)
                      if (lesson.day - timedelta(days=d)).weekday() in
                      {s.weekday for s in lesson.school_class.timetable
                       if s.subject_id == lesson.slot.subject_id}}
        for back in range(1, 7):
            day = lesson.day - timedelta(days=back)
            if (day >= lesson.term.start and day not in days_with
                    and self.school.calendar.is_school_day(day)
                    and day not in self._outage_days):
                return day
        return None

    # the end of a term ------------------------------------------------------------
    def _term_end(self, term: Term, by_stream: dict[tuple[str, str, str | None], list[Lesson]],
                  marks: dict[tuple[str, str], MarkState]) -> None:
        for stream, stream_lessons in sorted(by_stream.items(), key=lambda kv: str(kv[0])):
            first = stream_lessons[0]
            plan_term = self.plan_term(first.school_class, term)
            if first.school_class.grade < 2 or plan_term.end != term.end:
                continue  # (a half-year's marks come at its end)
            # Owed by every student in the class on the term's last day (a joiner too).
            for student in self.stream_students(first.school_class, stream[1], stream[2],
                                                plan_term.end):
                if stream[1] == "pe" and student.student_id in self._whole_exempt[
                        plan_term.term_id]:
                    continue
                self._final_mark(plan_term, first, student,
                                 marks[(student.student_id, stream[1])])
        if term.number == len(self.school.calendar.terms):
            self._year_marks(term)
        for school_class in self.school.classes:
            if self.chance("personal_data.unverified"):
                self.plant("personal_data.unverified", term.end, class_id=school_class.class_id,
                           term_id=term.term_id, teacher_id=school_class.homeroom_teacher_id)
                continue
            self.emit("personal_data.verified",
                      self.local(term.end + timedelta(days=self.rng.randint(1, 5)), time(11, 0)),
                      {"class_id": school_class.class_id, "term_id": term.term_id,
                       "verified_by": school_class.homeroom_teacher_id})

    def _final_mark(self, term: Term, first: Lesson, student: Student, state: MarkState) -> None:
        """The term mark (quarter or half-year) of one student in one subject."""
        subject_id = first.slot.subject_id
        sid = student.student_id
        entity = dict(student_id=sid, subject_id=subject_id,
                      class_id=first.school_class.class_id, term_id=term.term_id,
                      teacher_id=first.slot.teacher_id)
        self._final_meta[(sid, subject_id)] = (first.school_class.class_id,
                                               first.slot.teacher_id)
        joined = self._joined.get(sid)
        if joined is not None and term.start < joined and self.chance("final_mark.late",
                                                                      JOINER_LATE_FACTOR):
            self.plant("final_mark.late", term.end, note="joined mid-term, never marked",
                       **entity)
            return  # the teacher forgot the newcomer: no term mark at all
        valid = [v for v in state.values if 2 <= v <= 5]
        value: int | str = round_half_up(sum(valid) / len(valid)) if valid else "н/а"
        fault = self._final_faults.get((sid, subject_id, term.term_id))
        if len(valid) < MIN_FINAL_MARKS and fault != "final_mark.insufficient_marks":
            value = "н/а"  # not assessed: too few marks (long absence), as journals write it
        at = self.local(term.end, time(15, 0)) + timedelta(minutes=self.rng.randint(0, 1800))
        if fault == "final_mark.inconsistent" and isinstance(value, int):
            value = value - 1 if value > 2 else value + 1
        elif fault == "final_mark.late":
            at = self.local(term.end + timedelta(days=self.fault_rng.randint(3, 5)), time(12, 0))
        if fault == "final_mark.inconsistent" and not isinstance(value, int):
            fault = None
        if fault is not None:
            self.plant(fault, term.end, **entity)
        if isinstance(value, int):
            self._quarter_marks[(sid, subject_id)].append(value)
        self.emit("mark.recorded", at, {
            "mark_id": f"{sid}-{subject_id}-{term.term_id}",
            "student_id": sid, "class_id": first.school_class.class_id,
            "subject_id": subject_id, "teacher_id": first.slot.teacher_id, "lesson_id": None,
            "date": term.end.isoformat(), "value": str(value), "work_type": None,
            "kind": term.kind, "term_id": term.term_id})

    def _year_marks(self, last_quarter: Term) -> None:
        """Year marks: the rounded mean of the term marks (quarters or half-years), set with
        the last term's, for every student in the class at the year's end ("н/а" for one
        who has no term mark)."""
        year = self.school.calendar.year_term
        for (student_id, subject_id), (class_id, teacher_id) in sorted(
                self._final_meta.items()):
            if not self.member(student_id, year.end):
                continue
            values = self._quarter_marks.get((student_id, subject_id))
            at = self.local(last_quarter.end, time(18, 0)) + timedelta(
                minutes=self.rng.randint(0, 1200))
            self.emit("mark.recorded", at, {
                "mark_id": f"{student_id}-{subject_id}-{year.term_id}",
                "student_id": student_id, "class_id": class_id, "subject_id": subject_id,
                "teacher_id": teacher_id, "lesson_id": None, "date": year.end.isoformat(),
                "value": str(round_half_up(sum(values) / len(values))) if values else "н/а",
                "work_type": None, "kind": "year", "term_id": year.term_id})
