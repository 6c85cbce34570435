"""A student's term report for parents, and the class's final statement for the year (pure)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from services.printer.domain.journal import (
    ClassCopy,
    NotPrintable,
    SchoolNames,
    Student,
    Term,
    average,
    class_students,
    roster_class_name,
    school_names,
    terms_of,
)


@dataclass(frozen=True)
class SubjectLine:
    subject: str
    marks: list[str]
    average: float | None
    term_mark: str


@dataclass(frozen=True)
class StudentReport:
    school_id: str
    class_name: str
    academic_year: str
    homeroom_teacher: str
    student: Student
    term: Term
    subjects: list[SubjectLine]
    missed: int
    missed_illness: int
    late: int
    school: SchoolNames | None = None


def _names(copy: ClassCopy) -> dict[str, str]:
    return {plan["subject_id"]: plan["subject_name"] for plan in copy.plans}


def build_student_report(copy: ClassCopy, student_id: str, term_id: str) -> StudentReport:
    students = class_students(copy)
    student = next((s for s in students if s.student_id == student_id), None)
    if student is None:
        raise NotPrintable(f"ученика {student_id} нет в списке класса {copy.class_id}")
    term = next((t for t in terms_of(copy.calendar) if t.term_id == term_id), None)
    if term is None:
        raise NotPrintable(f"в календаре нет периода {term_id}")
    names = _names(copy)
    current: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    finals: dict[str, str] = {}
    for mark in copy.marks:
        if mark["student_id"] != student_id:
            continue
        subject = mark["subject_id"]
        if mark.get("kind", "current") == "current":
            if term.start <= date.fromisoformat(mark["date"]) <= term.end:
                current[subject].append((mark["date"], mark["mark_id"], mark["value"]))
        elif mark.get("term_id") == term_id:
            finals[subject] = mark["value"]
    subject_ids = sorted(set(names) | set(current) | set(finals),
                         key=lambda sid: names.get(sid, sid))
    lines = []
    for subject_id in subject_ids:
        values = [value for _, _, value in sorted(current.get(subject_id, []))]
        lines.append(SubjectLine(names.get(subject_id, subject_id), values, average(values),
                                 finals.get(subject_id, "")))
    missed = illness = late = 0
    for lesson in copy.lessons:
        if not term.start <= date.fromisoformat(lesson["date"]) <= term.end:
            continue
        sheet = copy.attendance.get(lesson["lesson_id"]) or {}
        for absence in sheet.get("absent", []):
            if absence["student_id"] == student_id:
                missed += 1
                illness += absence.get("reason") == "illness"
        late += student_id in sheet.get("late", [])
    roster = copy.roster or {}
    return StudentReport(
        copy.school_id, roster_class_name(copy),
        str(roster.get("academic_year", "")),
        copy.teachers.get(roster.get("homeroom_teacher_id") or "", "—"),
        student, term, lines, missed, illness, late,
        school_names(copy.school_id, copy.calendar))


@dataclass(frozen=True)
class FinalStatement:
    """Итоговая ведомость: per student and subject the term marks and the year mark."""

    school_id: str
    class_name: str
    academic_year: str
    homeroom_teacher: str
    students: list[Student]
    subjects: list[str]
    terms: list[Term]
    #: (student_id, subject name) -> {term_id: mark}
    marks: dict[tuple[str, str], dict[str, str]]
    school: SchoolNames | None = None

    def year_marks(self) -> dict[tuple[str, str], str]:
        year = next((t for t in self.terms if t.kind == "year"), None)
        if year is None:
            return {}
        return {key: values[year.term_id] for key, values in self.marks.items()
                if year.term_id in values}


def build_final_statement(copy: ClassCopy) -> FinalStatement:
    students = class_students(copy)
    terms = terms_of(copy.calendar)
    names = _names(copy)
    marks: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    stamps: dict[tuple[str, str, str], str] = {}
    for mark in copy.marks:
        if mark.get("kind", "current") == "current" or not mark.get("term_id"):
            continue
        subject = names.get(mark["subject_id"], mark["subject_id"])
        key = (mark["student_id"], subject, mark["term_id"])
        if key not in stamps or mark["date"] >= stamps[key]:
            stamps[key] = mark["date"]
            marks[(mark["student_id"], subject)][mark["term_id"]] = mark["value"]
    subjects = sorted(set(names.values()) | {subject for _, subject in marks})
    roster = copy.roster or {}
    return FinalStatement(
        copy.school_id, roster_class_name(copy),
        str(roster.get("academic_year", "")),
        copy.teachers.get(roster.get("homeroom_teacher_id") or "", "—"),
        students, subjects, terms, dict(marks), school_names(copy.school_id, copy.calendar))
