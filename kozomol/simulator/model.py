"""The simulated school: plain data, generated deterministically from a seed.

Nothing here knows about events or HTTP; ``school.py`` builds these objects,
``activity.py`` turns a school into a year of teacher activity (events), and
``faults.py`` decides which entries go wrong (and records each in the ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time


@dataclass(frozen=True)
class Teacher:
    teacher_id: str
    full_name: str  # "Фамилия Имя Отчество" (Russian or Kyrgyz names)
    subject_ids: tuple[str, ...]


@dataclass(frozen=True)
class Student:
    student_id: str
    full_name: str
    birth_date: date
    parents: tuple[tuple[str, str, str], ...]  # (full_name, relation, phone)
    subgroups: dict[str, str] = field(default_factory=dict)  # subject_id -> "1" | "2"


@dataclass(frozen=True)
class Subject:
    subject_id: str        # "math", "russian_lang", "english", ...
    name: str              # Russian name as printed in the journal: "Математика"
    is_language: bool      # topics of language subjects may be in that language
    split_in_subgroups: bool  # taught in two subgroups (foreign / Kyrgyz language, IT)


@dataclass(frozen=True)
class Term:
    term_id: str           # "2026-2027-q1"
    kind: str              # "quarter", "half_year" (grades 10–11) or "year"
    number: int
    start: date
    end: date


@dataclass(frozen=True)
class Calendar:
    academic_year: str     # "2026-2027"
    timezone: str          # "Asia/Bishkek"
    weekend: tuple[str, ...]  # ("sun",) for a six-day week, ("sat", "sun") for five
    terms: tuple[Term, ...]   # the four quarters, in order
    year_term: Term           # kind "year", start of Q1 to end of Q4
    holidays: tuple[date, ...]  # every non-school weekday inside the year (holidays, vacations)
    bell_times: tuple[tuple[time, time], ...]  # period n (1-based) -> (start, end)
    #: the two half-years (kind "half_year": quarters 1–2 and 3–4), for grades 10–11
    half_years: tuple[Term, ...] = ()

    def is_school_day(self, day: date) -> bool:
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
        in_year = self.terms[0].start <= day <= self.terms[-1].end
        return in_year and weekday not in self.weekend and day not in self.holidays

    def term_of(self, day: date) -> Term | None:
        return next((t for t in self.terms if t.start <= day <= t.end), None)

    def half_year_of(self, quarter: Term) -> Term:
        """The half-year holding ``quarter``."""
        return next(h for h in self.half_years if h.start <= quarter.start <= h.end)


@dataclass(frozen=True)
class Slot:
    """One lesson of the weekly timetable."""

    weekday: int            # 0 = Monday
    period: int             # 1-based lesson number in the day
    subject_id: str
    subgroup: str | None    # None = whole class; "1"/"2" = that subgroup
    teacher_id: str


@dataclass(frozen=True)
class SchoolClass:
    class_id: str           # "5a"
    grade: int              # 1..11
    letter: str             # Cyrillic letter as printed: "А", "Б", ...
    homeroom_teacher_id: str
    students: tuple[Student, ...]
    timetable: tuple[Slot, ...]
    #: grades 10–11 are planned and marked by half-years (КТП and term marks), not quarters
    by_half_years: bool = False

    @property
    def display_name(self) -> str:
        """The class as the school writes it: «4 «Б»»."""
        return f"{self.grade} «{self.letter}»"


@dataclass(frozen=True)
class PlannedLesson:
    number: int
    planned_date: date
    topic: str              # Russian topic, clean (no abbreviations, no placeholders)
    #: the kind of graded work the lesson is planned for, named in its topic:
    #: None, or one of "control", "test", "lab", "practical", "dictation", "essay"
    assessment: str | None = None


@dataclass(frozen=True)
class SubjectPlan:
    """КТП: the calendar-thematic plan of one class, subject (subgroup) and term."""

    class_id: str
    subject_id: str
    subgroup: str | None
    teacher_id: str
    term_id: str
    lessons: tuple[PlannedLesson, ...]


@dataclass(frozen=True)
class RosterChange:
    """A student joins or leaves a class on a school day (the class teacher updates the list)."""

    class_id: str
    day: date
    student: Student
    joins: bool             # True: in the class from ``day`` on; False: gone from ``day`` on


@dataclass(frozen=True)
class School:
    school_id: str
    name: str
    language_of_instruction: str   # "ru" or "ky"
    calendar: Calendar
    subjects: dict[str, Subject]
    teachers: dict[str, Teacher]
    classes: tuple[SchoolClass, ...]
    plans: tuple[SubjectPlan, ...]
    #: joiners and leavers during the year, in order of day
    roster_changes: tuple[RosterChange, ...] = ()
    address: str = ""
    director_name: str = ""
    #: (full name, responsibility as written: "по учебно-воспитательной работе")
    deputy_directors: tuple[tuple[str, str], ...] = ()
