"""Each student's result per class, subject and term, kept by the sweep (pure).

The academic results reports (успеваемость, качество знаний, СОУ, objectivity of
term marks) are sums over these rows. Who is counted is decided here, the way
the rules decide who owes a term mark (``rules._Context``: the class's own term
system, the roster on the term's last day, exemptions covering the term's
lessons, the newest of repeated term marks), so a report and the
``final_mark.*`` findings never disagree about a student:

- a student on the class's roster on the term's last day (for a term in
  progress: today) is counted; one who joined during the term is counted too;
- a student who was on the roster during the term but not on its last day has
  left: kept with status ``left`` and not counted;
- a student whose exemptions cover every lesson of the subject held in the term
  is ``exempt``: out of the denominator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.checker.domain.facts import SchoolFacts, Term
from services.checker.domain.rules import VALID_MARKS, Parameters, _Context

COUNTED, EXEMPT, LEFT = "counted", "exempt", "left"
RESULT_TERM_KINDS = frozenset({"quarter", "half_year", "year"})


@dataclass(frozen=True)
class StudentResult:
    """One student in one subject (subgroup) of a class for one term."""

    subject_id: str
    subgroup: str | None
    teacher_id: str
    student_id: str
    status: str             # counted | exempt | left
    final: str | None       # the term (year) mark: "2".."5", "н/а", another text, or None
    current_count: int      # current marks 2-5 dated in the term
    current_sum: int

    def as_row(self) -> list[object]:
        return [self.subject_id, self.subgroup, self.teacher_id, self.student_id, self.status,
                self.final, self.current_count, self.current_sum]

    @classmethod
    def from_row(cls, row: list[object]) -> StudentResult:
        subject, subgroup, teacher, student, status, final, count, total = row
        return cls(str(subject), None if subgroup is None else str(subgroup), str(teacher),
                   str(student), str(status), None if final is None else str(final),
                   int(count), int(total))  # type: ignore[call-overload]


@dataclass(frozen=True)
class ClassTermResults:
    """The results of one class for one term (a quarter, a half-year or the year)."""

    term_id: str
    class_id: str
    grade: int
    results: tuple[StudentResult, ...]


def student_results(facts: SchoolFacts, now: datetime,
                    params: Parameters | None = None) -> list[ClassTermResults]:
    """Every class's results for every term that has started by ``now``."""
    if facts.calendar.data is None:
        return []
    params = params or Parameters()
    context = _Context(facts, now, params)
    finals = context._final_marks()
    terms = context.calendar.terms
    on_rosters = {s["student_id"] for roster in facts.classes.values()
                  for s in (roster.data or {}).get("students", [])}
    made: list[ClassTermResults] = []
    for term in sorted(terms, key=lambda t: (t.start, t.kind)):
        if term.kind not in RESULT_TERM_KINDS or term.start > context.today:
            continue
        until = min(term.end, context.today)
        for class_id in sorted(facts.classes):
            grade = context.grades.get(class_id, 0)
            if grade < params.marked_from_grade:
                continue
            system = context._term_system(class_id)
            if term.kind not in ("year", system):
                continue
            own_terms = [t for t in terms if t.kind == system and (
                t.term_id == term.term_id or (term.kind == "year"
                                              and term.start <= t.start <= term.end))]
            members = set(context._members_on(class_id, until))
            left = _ever_in(facts, context, class_id, term, until) - members
            rows = []
            taught = sorted(context._taught(class_id, own_terms).items(),
                            key=lambda kv: str(kv[0]))
            for (subject_id, subgroup), teacher_id in taught:
                for student_id in sorted(members | left):
                    if subgroup is not None and _group_of(
                            context, on_rosters, finals, taught, student_id=student_id,
                            subject_id=subject_id, term_id=term.term_id) != subgroup:
                        continue
                    if student_id in left:
                        status = LEFT
                    elif context._exempt(student_id, class_id, subject_id, subgroup, term):
                        status = EXEMPT
                    else:
                        status = COUNTED
                    found = finals.get((student_id, subject_id, term.term_id))
                    values = [int(m["value"]) for m in context.marks_by_student[
                        (student_id, subject_id)] if m["value"] in VALID_MARKS
                        and m["class_id"] == class_id
                        and term.start <= date.fromisoformat(m["date"]) <= term.end]
                    rows.append(StudentResult(
                        subject_id, subgroup, teacher_id, student_id, status,
                        found[1]["value"] if found else None, len(values), sum(values)))
            made.append(ClassTermResults(term.term_id, class_id, grade, tuple(rows)))
    return made


def _group_of(context: _Context, on_rosters: set[str], finals: dict[tuple[str, str, str], Any],
              taught: list[tuple[tuple[str, str | None], str]], *, student_id: str,
              subject_id: str, term_id: str) -> str | None:
    """The student's subgroup in a subject.

    The facts keep the subgroups of the newest roster only; a student who has left
    since is placed in the subgroup whose teacher gave their term mark (else the
    first subgroup), so they are one student of the subject, not none.
    """
    known = context.subgroups.get((student_id, subject_id))
    if known is not None or student_id in on_rosters:
        return known
    streams = [(group, teacher) for (subject, group), teacher in taught
               if subject == subject_id and group is not None]
    found = finals.get((student_id, subject_id, term_id))
    by_teacher: list[str | None] = [group for group, teacher in streams
                                    if found is not None and teacher == found[1].get("teacher_id")]
    return (by_teacher or [group for group, _ in streams] or [None])[0]


def _ever_in(facts: SchoolFacts, context: _Context, class_id: str, term: Term,
             until: date) -> set[str]:
    """Students on the class's roster at any time from the term's start to ``until``."""
    ever = set(context._members_on(class_id, term.start))
    for entered, students in facts.classes[class_id].snapshots():
        if term.start <= context.calendar.local_date(entered) <= until:
            ever.update(students)
    return ever
