"""Each student's result per class, subject and term, kept by the sweep (pure).

The academic results reports (успеваемость, качество знаний, СОУ, objectivity of
term marks) are sums over these rows. Who is counted is decided here, the way
the rules decide who owes a term mark (``rules.SchoolView``: the class's own term
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
from services.checker.domain.rules import (
    VALID_MARKS,
    Parameters,
    SchoolView,
    round_half_up,
    school_view,
)

RESULT_TERM_KINDS = frozenset({"quarter", "half_year", "year"})
#: A student's code in a stream (one character each, so a class's term is a few strings):
#: "2"-"5" a mark, NOT_ASSESSED ("н/а"), MISSING (no term mark, or a text that is no mark),
#: EXEMPT, LEFT (left the class during the term), ABSENT (not in this subgroup).
NOT_ASSESSED, MISSING, EXEMPT, LEFT, ABSENT = "n", "-", "x", "l", " "
GRADES = frozenset("2345")


@dataclass(frozen=True)
class Stream:
    """One subject (subgroup) of a class for a term: a code per student of the class."""

    subject_id: str
    subgroup: str | None
    teacher_id: str
    finals: str     # the term (year) mark of each student
    currents: str   # the mean of their current marks, rounded half up ("n": none)
    counts: tuple[int, ...]  # how many current marks 2-5 dated in the term
    sums: tuple[int, ...]    # their sum

    def dump(self) -> list[Any]:
        return [self.subject_id, self.subgroup, self.teacher_id, self.finals, self.currents,
                list(self.counts), list(self.sums)]


@dataclass(frozen=True)
class ClassTermResults:
    """The results of one class for one term (a quarter, a half-year or the year)."""

    term_id: str
    class_id: str
    grade: int
    students: tuple[str, ...]
    streams: tuple[Stream, ...]

    def dump(self) -> dict[str, Any]:
        return {"students": list(self.students), "streams": [s.dump() for s in self.streams]}

    @classmethod
    def load(cls, term_id: str, class_id: str, grade: int,
             data: dict[str, Any]) -> ClassTermResults:
        return cls(term_id, class_id, grade, tuple(data["students"]), tuple(
            Stream(subject, subgroup, teacher, finals, currents, tuple(counts), tuple(sums))
            for subject, subgroup, teacher, finals, currents, counts, sums in data["streams"]))


def _final_code(value: str | None) -> str:
    if value in GRADES:
        return str(value)
    return NOT_ASSESSED if value == "н/а" else MISSING


def student_results(facts: SchoolFacts, now: datetime, params: Parameters | None = None, *,
                    view: SchoolView | None = None) -> list[ClassTermResults]:
    """Every class's results for every term that has started by ``now``.

    ``view``: the school's :func:`rules.school_view` at ``now``, if already built.
    """
    context = view or school_view(facts, now, params or Parameters())
    if context is None:
        return []
    finals = context.entered_final_marks()
    terms = context.calendar.terms
    on_rosters = {s["student_id"] for roster in facts.classes.values()
                  for s in (roster.data or {}).get("students", [])}
    # exempt() scans every exemption: ask it only for those who have one.
    with_exemption = {(student, subject) for (student, subject, _, _), exemption
                      in facts.exemptions.items() if exemption.live}
    current_marks = _current_marks(context, terms)
    made: list[ClassTermResults] = []
    for term in sorted(terms, key=lambda t: (t.start, t.kind)):
        if term.kind not in RESULT_TERM_KINDS or term.start > context.today:
            continue
        until = min(term.end, context.today)
        for class_id in sorted(facts.classes):
            grade = context.grades.get(class_id, 0)
            if grade < context.params.marked_from_grade:
                continue
            system = context.term_system(class_id)
            if term.kind not in ("year", system):
                continue
            own_terms = [t for t in terms if t.kind == system and (
                t.term_id == term.term_id or (term.kind == "year"
                                              and term.start <= t.start <= term.end))]
            members = set(context.members_on(class_id, until))
            left = _ever_in(facts, context, class_id, term, until) - members
            taught = sorted(context.taught(class_id, own_terms).items(),
                            key=lambda kv: str(kv[0]))
            students = tuple(sorted(members | left))
            streams = []
            for (subject_id, subgroup), teacher_id in taught:
                finals_codes, current_codes, counts, sums = [], [], [], []
                for student_id in students:
                    count = total = 0
                    if subgroup is not None and _group_of(
                            context, on_rosters, finals, taught, student_id=student_id,
                            subject_id=subject_id, term_id=term.term_id) != subgroup:
                        final = current = ABSENT
                    elif student_id in left:
                        final = current = LEFT
                    elif (student_id, subject_id) in with_exemption and context.exempt(
                            student_id, class_id, subject_id, subgroup, term):
                        final = current = EXEMPT
                    else:
                        found = finals.get((student_id, subject_id, term.term_id))
                        final = _final_code(found[1]["value"] if found else None)
                        count, total = current_marks.get(
                            (term.term_id, class_id, student_id, subject_id), (0, 0))
                        current = str(round_half_up(total / count)) if count else NOT_ASSESSED
                    finals_codes.append(final)
                    current_codes.append(current)
                    counts.append(count)
                    sums.append(total)
                streams.append(Stream(subject_id, subgroup, teacher_id, "".join(finals_codes),
                                      "".join(current_codes), tuple(counts), tuple(sums)))
            made.append(ClassTermResults(term.term_id, class_id, grade, students,
                                         tuple(streams)))
    return made


def _current_marks(context: SchoolView, terms: list[Term]
                   ) -> dict[tuple[str, str, str, str], tuple[int, int]]:
    """(term, class, student, subject) -> (count, sum) of the current marks 2-5 dated in
    the term, in one pass over the marks (the same marks the rules judge)."""
    spans = [(t.term_id, t.start.isoformat(), t.end.isoformat()) for t in terms
             if t.kind in RESULT_TERM_KINDS]
    terms_of: dict[str, list[str]] = {}
    sums: dict[tuple[str, str, str, str], list[int]] = {}
    for _, mark in context.current_marks:
        if mark["value"] not in VALID_MARKS:
            continue
        day = mark["date"]
        if day not in terms_of:  # ISO dates compare as dates
            terms_of[day] = [term_id for term_id, first, last in spans if first <= day <= last]
        for term_id in terms_of[day]:
            key = (term_id, mark["class_id"], mark["student_id"], mark["subject_id"])
            found = sums.get(key)
            if found is None:
                sums[key] = [1, int(mark["value"])]
            else:
                found[0] += 1
                found[1] += int(mark["value"])
    return {key: (count, total) for key, (count, total) in sums.items()}


def _group_of(context: SchoolView, on_rosters: set[str], finals: dict[tuple[str, str, str], Any],
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


def _ever_in(facts: SchoolFacts, context: SchoolView, class_id: str, term: Term,
             until: date) -> set[str]:
    """Students on the class's roster at any time from the term's start to ``until``."""
    ever = set(context.members_on(class_id, term.start))
    for entered, students in facts.classes[class_id].snapshots():
        if term.start <= context.calendar.local_date(entered) <= until:
            ever.update(students)
    return ever
