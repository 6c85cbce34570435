"""What the notifier knows, as plain data: its own small fold of the contract's events.

The adapters load these from the notifier's tables; the planning functions
(``planning.py``) turn them into messages. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Work types whose marks are due within ``written_mark_days`` (rule mark.late).
WRITTEN_KINDS = frozenset({"written", "test", "control", "dictation", "essay", "lab",
                           "practical", "project"})
FINAL_KINDS = frozenset({"quarter", "half_year", "year"})
#: Topic words that name a written work (the checker's rule topic.assessment_unnamed asks for them).
WRITTEN_TOPIC_WORDS = ("контрольн", "диктант", "сочинени", "изложени", "тест",
                       "лабораторн", "практическ", "самостоятельн", "проверочн")
#: Every numeric limit is a per-school parameter of the rule catalog; these two set deadlines.
DEADLINE_PARAMETERS = ("written_mark_days", "final_mark_days")
FORTNIGHT_DAYS = 14  # clause 4.2: the deputy director checks the journal every two weeks


@dataclass(frozen=True)
class Term:
    term_id: str
    kind: str
    number: int
    start: date
    end: date


@dataclass(frozen=True)
class Calendar:
    timezone: str = "Asia/Bishkek"
    terms: tuple[Term, ...] = ()
    holidays: frozenset[date] = frozenset()
    weekend: frozenset[str] = frozenset({"sun"})

    def is_school_day(self, day: date) -> bool:
        if WEEKDAYS[day.weekday()] in self.weekend or day in self.holidays:
            return False
        return any(t.kind == "quarter" and t.start <= day <= t.end for t in self.terms)

    def quarters(self) -> list[Term]:
        return sorted((t for t in self.terms if t.kind == "quarter"), key=lambda t: t.start)

    def next_check(self, today: date) -> date | None:
        """The deputy director's next check (clause 4.2: every two weeks): the last day of
        the fortnight of the school year that contains tomorrow."""
        quarters = self.quarters()
        tomorrow = today + timedelta(days=1)
        if not quarters or tomorrow < quarters[0].start:
            return None
        index = (tomorrow - quarters[0].start).days // FORTNIGHT_DAYS
        return quarters[0].start + timedelta(days=FORTNIGHT_DAYS * (index + 1) - 1)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Calendar:
        return cls(
            timezone=str(data.get("timezone") or "Asia/Bishkek"),
            terms=tuple(Term(str(t["id"]), str(t["kind"]), int(t["number"]),
                             date.fromisoformat(t["start"]), date.fromisoformat(t["end"]))
                        for t in data.get("terms") or []),
            holidays=frozenset(date.fromisoformat(d) for d in data.get("holidays") or []),
            weekend=frozenset(data.get("weekend") or ["sun"]),
        )


@dataclass(frozen=True)
class Recipient:
    """A teacher or a parent with the channels they can be reached on."""

    kind: str                       # teacher | parent
    person_id: str                  # teacher_id, or the parent's id
    full_name: str
    language: str = "ru"
    email: str | None = None
    telegram_chat_id: str | None = None
    phone: str | None = None
    roles: tuple[str, ...] = ()
    consent: bool = True            # teachers: not unsubscribed; parents: opted in
    student_id: str | None = None   # a parent: the child this consent is about

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.person_id}"


@dataclass(frozen=True)
class Lesson:
    lesson_id: str
    class_id: str
    subject_id: str
    teacher_id: str
    date: date
    period: int
    subgroup: str | None
    topic: str
    homework: str
    has_attendance: bool
    absent: tuple[tuple[str, str | None], ...] = ()   # (student_id, reason)

    @property
    def names_written_work(self) -> bool:
        topic = self.topic.lower()
        return any(word in topic for word in WRITTEN_TOPIC_WORDS)


@dataclass(frozen=True)
class Mark:
    mark_id: str
    student_id: str
    class_id: str
    subject_id: str
    teacher_id: str
    lesson_id: str | None
    date: date
    value: str
    work_type: str | None
    kind: str
    term_id: str | None
    entered_at: datetime


@dataclass(frozen=True)
class Finding:
    finding_id: str
    rule: str
    responsible: str       # teacher | class_teacher | deputy
    teacher_id: str | None
    class_id: str | None
    date: date
    message: str
    opened_at: datetime
    subject_id: str | None = None


@dataclass(frozen=True)
class SchoolClass:
    class_id: str
    grade: int
    homeroom_teacher_id: str | None
    #: student id → their subgroup per subject (English, Kyrgyz, informatics in halves)
    students: dict[str, dict[str, str]]
    #: the class as the school writes it («4 «Б»»; contract v1.1), None when not sent
    name: str | None = None

    def students_of(self, subject_id: str, subgroup: str | None) -> list[str]:
        return [s for s, groups in self.students.items()
                if subgroup is None or groups.get(subject_id) == subgroup]


@dataclass(frozen=True)
class Plan:
    """Who teaches a class-subject(-subgroup) in a term (from subject.plan)."""

    class_id: str
    subject_id: str
    subgroup: str | None
    teacher_id: str
    term_id: str


@dataclass(frozen=True)
class Report:
    report_id: str
    kind: str
    title: str
    parameters: dict[str, Any]
    summary: list[list[str]]
    received_at: datetime


@dataclass
class SchoolFacts:
    """One school as the notifier knows it, loaded for one planning moment."""

    school_id: str
    calendar: Calendar
    parameters: dict[str, int]
    teachers: dict[str, Recipient] = field(default_factory=dict)
    parents: dict[str, list[Recipient]] = field(default_factory=dict)  # by student_id
    students: dict[str, str] = field(default_factory=dict)             # id → full name
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)             # id → name
    plans: list[Plan] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)   # the dates planning asked for
    marks: list[Mark] = field(default_factory=list)       # of those dates, and final marks
    findings: list[Finding] = field(default_factory=list)  # open ones

    def subject_name(self, subject_id: str) -> str:
        return self.subjects.get(subject_id, subject_id)

    def class_name(self, class_id: str) -> str:
        """The class as the school writes it, or its id when the roster has no name."""
        school_class = self.classes.get(class_id)
        return (school_class.name if school_class is not None and school_class.name
                else class_id)

    def deputies(self) -> list[Recipient]:
        return [t for t in self.teachers.values() if "deputy_director" in t.roles]
