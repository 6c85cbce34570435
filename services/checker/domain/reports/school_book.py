"""What a report is built from: the school book (classes, teachers, subjects, plans,
terms) and the findings, and the scope a report is limited to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.checker.domain.facts import SchoolFacts
from services.checker.domain.reports.model import ReportError
from services.checker.domain.rules import Term


@dataclass(frozen=True)
class FindingRef:
    """What reports need of a finding."""

    rule: str
    status: str
    date: date
    class_id: str | None
    subject_id: str | None
    teacher_id: str | None


@dataclass(frozen=True)
class Plan:
    class_id: str
    subject_id: str
    subgroup: str | None
    term_id: str
    teacher_id: str
    #: ISO dates, sorted: strings compare as dates do, and a book with a year of plans
    #: loads without parsing a hundred thousand dates for every report.
    planned_dates: tuple[str, ...]


@dataclass
class SchoolBook:
    """What every report needs besides the statistics: time zone, terms, names, plans."""

    timezone: str = "Asia/Bishkek"
    terms: list[Term] = field(default_factory=list)
    subjects: dict[str, str] = field(default_factory=dict)
    teachers: dict[str, str] = field(default_factory=dict)
    homeroom: dict[str, str | None] = field(default_factory=dict)
    plans: list[Plan] = field(default_factory=list)
    today: date = date.min

    def term(self, term_id: str | None, *, kind: str = "quarter") -> Term:
        """The term asked for; by default the current one, else the last that ended."""
        if term_id is not None:
            for term in self.terms:
                if term.term_id == term_id:
                    return term
            raise ReportError(f"в календаре школы нет периода {term_id}")
        candidates = sorted((t for t in self.terms if t.kind == kind and t.start <= self.today),
                            key=lambda t: t.start)
        if not candidates:
            raise ReportError("учебный период ещё не начался")
        return candidates[-1]

    def previous(self, term: Term) -> Term | None:
        earlier = sorted((t for t in self.terms if t.kind == term.kind and t.end < term.start),
                         key=lambda t: t.start)
        return earlier[-1] if earlier else None

    def subject(self, subject_id: str | None) -> str:
        return self.subjects.get(subject_id or "", subject_id or "")

    def teacher(self, teacher_id: str | None) -> str:
        return self.teachers.get(teacher_id or "", teacher_id or "")

    def plans_of(self, class_id: str | None) -> list[Plan]:
        return [p for p in self.plans if class_id is None or p.class_id == class_id]

    def dump(self) -> tuple[dict[str, Any], list[list[Any]]]:
        """The book as JSON, and its plans apart (large; only some reports need them)."""
        return ({"timezone": self.timezone,
                 "terms": [[t.term_id, t.kind, t.number, t.start.isoformat(),
                            t.end.isoformat()] for t in self.terms],
                 "subjects": self.subjects, "teachers": self.teachers,
                 "homeroom": self.homeroom},
                [[p.class_id, p.subject_id, p.subgroup, p.term_id, p.teacher_id,
                  list(p.planned_dates)] for p in self.plans])

    @classmethod
    def load(cls, data: dict[str, Any], plans: list[list[Any]] | None = None) -> SchoolBook:
        return cls(
            timezone=data["timezone"],
            terms=[Term(i, k, n, date.fromisoformat(a), date.fromisoformat(b))
                   for i, k, n, a, b in data["terms"]],
            subjects=data["subjects"], teachers=data["teachers"], homeroom=data["homeroom"],
            plans=[Plan(c, s, g, t, teacher, tuple(dates))
                   for c, s, g, t, teacher, dates in plans or []])


def school_book(facts: SchoolFacts) -> SchoolBook:
    """The book of a school, from its facts (the sweep stores it for the reports)."""
    calendar = facts.calendar.data or {}
    plans = sorted((Plan(c, s, g, t, p.data["teacher_id"],
                         tuple(sorted(date.fromisoformat(x["planned_date"]).isoformat()
                                      for x in p.data["lessons"])))
                    for (c, s, g, t), p in facts.plans.items() if p.data),
                   key=lambda p: (p.class_id, p.subject_id, p.subgroup or "", p.term_id))
    return SchoolBook(
        timezone=calendar.get("timezone", "Asia/Bishkek"),
        terms=[Term(t["id"], t["kind"], t["number"], date.fromisoformat(t["start"]),
                    date.fromisoformat(t["end"])) for t in calendar.get("terms", [])],
        subjects=dict(sorted({p.data["subject_id"]: p.data["subject_name"]
                              for p in facts.plans.values() if p.data}.items())),
        teachers=dict(sorted((t, v.data["full_name"]) for t, v in facts.teachers.items()
                             if v.data)),
        homeroom=dict(sorted((c, v.data.get("homeroom_teacher_id"))
                             for c, v in facts.classes.items() if v.data)),
        plans=plans)


@dataclass(frozen=True)
class Scope:
    """Whose view a report is: ``None`` teacher means the whole school."""

    teacher_id: str | None = None
    classes: frozenset[str] = frozenset()  # a class teacher also sees their classes

    def sees(self, class_id: str | None, teacher_id: str | None) -> bool:
        return self.teacher_id is None or teacher_id == self.teacher_id or (
            class_id is not None and class_id in self.classes)


WHOLE_SCHOOL = Scope()
