"""The class journal as the printer lays it out, built from its copy of the data (pure).

One :class:`Journal` per class and period (a term or the whole year): the
students, then per subject (and subgroup) the marks grid (students × lesson
dates, term and year marks in their own columns) with the lessons' dates,
topics, homework and teachers, the attendance summary, the final marks and the
remarks sheet. The renderer only draws what this module decided.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from statistics import mean
from typing import Any

from natsort import natsort_keygen

from shared.events.journal_codes import ABSENCE_CODES, EXEMPT, LATE, MISSING_FINAL
from shared.events.rules import rule_title

#: Attendance in the grid, as in the paper journal (one vocabulary with the exports).
ABSENCE_SIGN = ABSENCE_CODES
LATE_SIGN = LATE
EXEMPT_SIGN = EXEMPT
TERM_LABELS = {1: "I", 2: "II", 3: "III", 4: "IV"}
MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
          "сентябрь", "октябрь", "ноябрь", "декабрь")
FINAL_KINDS = ("quarter", "half_year", "year", "exam")


class NotPrintable(ValueError):
    """The printer lacks what the document needs (an unknown class, no calendar, …)."""


@dataclass
class ClassCopy:
    """What the printer's copy holds about one class (live records only)."""

    school_id: str
    class_id: str
    roster: dict[str, Any] | None
    calendar: dict[str, Any] | None
    teachers: dict[str, str] = field(default_factory=dict)
    students: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)
    lessons: list[dict[str, Any]] = field(default_factory=list)
    attendance: dict[str, dict[str, Any]] = field(default_factory=dict)
    marks: list[dict[str, Any]] = field(default_factory=list)
    exemptions: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Term:
    term_id: str
    kind: str
    number: int
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "year":
            return "Год"
        if self.kind == "half_year":
            return f"{TERM_LABELS.get(self.number, self.number)} п/г"
        return f"{TERM_LABELS.get(self.number, self.number)} ч."

    @property
    def title(self) -> str:
        if self.kind == "year":
            return "учебный год"
        if self.kind == "half_year":
            return f"{self.number}-е полугодие"
        return f"{self.number}-я четверть"


@dataclass(frozen=True)
class Student:
    student_id: str
    number: int
    full_name: str


@dataclass(frozen=True)
class Column:
    """One column of a marks grid: a lesson date, or a term's or the year's marks."""

    kind: str  # "lesson" | "final"
    day: date
    label: str  # "02" for a lesson, "I ч." / "Год" for final marks
    lesson_id: str | None = None
    term_id: str | None = None

    @property
    def month(self) -> str:
        return "" if self.kind == "final" else MONTHS[self.day.month - 1]


@dataclass(frozen=True)
class LessonLine:
    """A line of the page facing the grid: what was taught on that date."""

    day: date
    period: int
    topic: str
    homework: str
    teacher: str
    note: str


@dataclass
class SubjectSection:
    subject_id: str
    subject_name: str
    subgroup: str | None
    teachers: list[str]
    students: list[Student]
    columns: list[Column]
    #: (student_id, column index) -> what the cell shows ("5", "н", "4 5", "н 3")
    cells: dict[tuple[str, int], str]
    lessons: dict[str, LessonLine]

    @property
    def title(self) -> str:
        return self.subject_name + (f", подгруппа {self.subgroup}" if self.subgroup else "")


@dataclass(frozen=True)
class AttendanceRow:
    student: Student
    #: per term of the period: (lessons missed, of them for illness, late arrivals)
    by_term: list[tuple[int, int, int]]
    total: tuple[int, int, int]


@dataclass(frozen=True)
class Remark:
    day: date
    subject: str
    teacher: str
    message: str
    status: str
    #: the rule's Russian title, and the day the check found it
    rule: str = ""
    checked_on: date | None = None
    #: the day it was fixed or waived (its history), and a waiver's justification
    fixed_on: date | None = None
    justification: str = ""


@dataclass(frozen=True)
class SchoolNames:
    """What the school's papers are headed with (contract v1.1; ids when not sent)."""

    name: str
    address: str = ""
    director: str = ""
    #: (full name, responsibility)
    deputies: tuple[tuple[str, str], ...] = ()

    @property
    def deputy_for_studies(self) -> str:
        """The deputy director for studies (по УВР), who signs the journal's certificate."""
        for name, area in self.deputies:
            if "учебн" in area or "УВР" in area:
                return name
        return self.deputies[0][0] if self.deputies else ""


def school_names(school_id: str, calendar: dict[str, Any] | None) -> SchoolNames:
    calendar = calendar or {}
    deputies = tuple((str(d.get("full_name") or ""), str(d.get("responsibility") or ""))
                     for d in calendar.get("deputy_directors") or [] if isinstance(d, dict))
    return SchoolNames(str(calendar.get("school_name") or school_id),
                       str(calendar.get("school_address") or ""),
                       str(calendar.get("director_name") or ""), deputies)


@dataclass
class Journal:
    school_id: str
    class_id: str
    class_name: str
    academic_year: str
    homeroom_teacher: str
    period: str
    terms: list[Term]
    students: list[Student]
    sections: list[SubjectSection]
    attendance: list[AttendanceRow]
    #: final marks: subject names (columns) and per student the marks of the period's end
    final_subjects: list[str]
    final_marks: dict[tuple[str, str], str]
    remarks: list[Remark]
    school: SchoolNames | None = None

    @property
    def school_name(self) -> str:
        return self.school.name if self.school else self.school_id


STATUS_NAMES = {"open": "не устранено", "fixed": "устранено", "waived": "снято"}


def terms_of(calendar: dict[str, Any] | None) -> list[Term]:
    if not calendar:
        raise NotPrintable("нет календаря учебного года (school.calendar)")
    terms = [Term(t["id"], t["kind"], int(t["number"]), date.fromisoformat(t["start"]),
                  date.fromisoformat(t["end"])) for t in calendar.get("terms", [])]
    return sorted(terms, key=lambda t: (t.kind == "year", t.start, t.number))


def _period_terms(terms: list[Term], term_id: str | None) -> tuple[list[Term], Term | None]:
    """The quarters (or half-years) of the period, and its year term when it is the year."""
    year = next((t for t in terms if t.kind == "year"), None)
    parts = [t for t in terms if t.kind != "year"]
    if term_id is None or (year is not None and term_id == year.term_id):
        return parts, year
    chosen = [t for t in parts if t.term_id == term_id]
    if not chosen:
        raise NotPrintable(f"в календаре нет периода {term_id}")
    return chosen, None


def class_students(copy: ClassCopy) -> list[Student]:
    if copy.roster is None:
        raise NotPrintable(f"нет списка класса {copy.class_id} (class.roster)")
    students = []
    for number, entry in enumerate(copy.roster.get("students", []), start=1):
        profile = copy.students.get(entry["student_id"])
        name = (profile or {}).get("full_name") or entry["full_name"]
        students.append(Student(entry["student_id"], number, name))
    return students


def class_name(class_id: str, grade: int | None, display: str | None = None) -> str:
    """The class as the school writes it («4 «Б»»), else its id (with the grade)."""
    if display:
        return display
    return class_id if grade is None or class_id.startswith(str(grade)) else f"{grade} {class_id}"


#: natural order of class names: 1 «А», 1 «Б», 2 «А» … 10 «А», 11 «Б»
class_sort_key = natsort_keygen()


def roster_class_name(copy: ClassCopy) -> str:
    roster = copy.roster or {}
    return class_name(copy.class_id, roster.get("grade"), roster.get("class_name"))


def build_journal(copy: ClassCopy, term_id: str | None = None,
                  as_of: date | None = None) -> Journal:
    """The class journal for a term (``term_id``) or the whole year (None or the year's id).

    ``as_of`` (the school's local date) tells an overdue final mark («—», the period
    has ended) from one not due yet (an empty cell); None counts every period as ended.
    """
    terms = terms_of(copy.calendar)
    parts, year = _period_terms(terms, term_id)
    start, end = min(t.start for t in parts), max(t.end for t in parts)
    students = class_students(copy)
    roster = copy.roster or {}
    subgroup_of = {entry["student_id"]: entry.get("subgroups") or {}
                   for entry in roster.get("students", [])}
    in_period = [lesson for lesson in copy.lessons
                 if start <= date.fromisoformat(lesson["date"]) <= end]
    streams: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for lesson in in_period:
        streams[(lesson["subject_id"], lesson.get("subgroup"))].append(lesson)
    names: dict[str, str] = {}
    plan_teachers: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for plan in copy.plans:
        names[plan["subject_id"]] = plan["subject_name"]
        stream_key = (plan["subject_id"], plan.get("subgroup"))
        streams.setdefault(stream_key, [])
        if plan["teacher_id"] not in plan_teachers[stream_key]:
            plan_teachers[stream_key].append(plan["teacher_id"])
    marks_by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mark in copy.marks:
        marks_by_subject[mark["subject_id"]].append(mark)
    sections = []
    for (subject_id, subgroup), lessons in sorted(
            streams.items(), key=lambda item: (names.get(item[0][0], item[0][0]),
                                               item[0][1] or "")):
        members = [s for s in students
                   if subgroup is None or subgroup_of.get(s.student_id, {}).get(subject_id)
                   == subgroup]
        stream = Stream(subject_id, names.get(subject_id, subject_id), subgroup, members,
                        lessons, marks_by_subject[subject_id],
                        plan_teachers[(subject_id, subgroup)])
        sections.append(_section(copy, stream, Period(parts, year), as_of))
    attendance = _attendance(copy, students, in_period, parts)
    final_subjects, final_marks = _final_marks(sections, parts, year)
    return Journal(
        school_id=copy.school_id, class_id=copy.class_id,
        class_name=roster_class_name(copy),
        academic_year=str(roster.get("academic_year") or (copy.calendar or {}).get(
            "academic_year", "")),
        homeroom_teacher=copy.teachers.get(roster.get("homeroom_teacher_id") or "", "—"),
        period=year.title if year else ", ".join(t.title for t in parts),
        terms=parts, students=students, sections=sections, attendance=attendance,
        final_subjects=final_subjects, final_marks=final_marks,
        remarks=_remarks(copy, names, start, end),
        school=school_names(copy.school_id, copy.calendar))


@dataclass(frozen=True)
class Period:
    parts: list[Term]
    year: Term | None

    @property
    def start(self) -> date:
        return min(t.start for t in self.parts)

    @property
    def end(self) -> date:
        return max(t.end for t in self.parts)

    @property
    def term_ids(self) -> set[str]:
        return {t.term_id for t in self.parts} | ({self.year.term_id} if self.year else set())


@dataclass(frozen=True)
class Stream:
    subject_id: str
    subject_name: str
    subgroup: str | None
    students: list[Student]
    lessons: list[dict[str, Any]]
    marks: list[dict[str, Any]]
    plan_teachers: list[str]


def _section(copy: ClassCopy, stream: Stream, period: Period,
             as_of: date | None = None) -> SubjectSection:
    subject_id, subject_name, subgroup = stream.subject_id, stream.subject_name, stream.subgroup
    students, lessons, marks = stream.students, stream.lessons, stream.marks
    plan_teachers, parts, year = stream.plan_teachers, period.parts, period.year
    start, end, period_term_ids = period.start, period.end, period.term_ids
    member_ids = {s.student_id for s in students}
    lessons = sorted(lessons, key=lambda item: (item["date"], item.get("period") or 0,
                                                item["lesson_id"]))
    lesson_ids = {lesson["lesson_id"] for lesson in lessons}
    by_date: dict[str, str] = {}
    for lesson in lessons:
        by_date.setdefault(lesson["date"], lesson["lesson_id"])
    # Marks without a lesson of this stream get a column of their own date.
    extra_days = sorted({mark["date"] for mark in marks
                         if mark.get("kind", "current") == "current"
                         and mark["student_id"] in member_ids
                         and start <= date.fromisoformat(mark["date"]) <= end
                         and mark.get("lesson_id") not in lesson_ids
                         and mark["date"] not in by_date})
    entries: list[tuple[date, int, Column]] = []
    for lesson in lessons:
        day = date.fromisoformat(lesson["date"])
        entries.append((day, 0, Column("lesson", day, f"{day.day:02d}",
                                       lesson_id=lesson["lesson_id"])))
    for text in extra_days:
        day = date.fromisoformat(text)
        entries.append((day, 0, Column("lesson", day, f"{day.day:02d}")))
    for term in parts:
        entries.append((term.end, 1, Column("final", term.end, term.label, term_id=term.term_id)))
    if year is not None:
        entries.append((year.end, 2, Column("final", year.end, year.label, term_id=year.term_id)))
    entries.sort(key=lambda item: (item[0], item[1]))
    columns = [entry[2] for entry in entries]
    index_of_lesson = {c.lesson_id: i for i, c in enumerate(columns) if c.lesson_id}
    index_of_day = {c.day.isoformat(): i for i, c in enumerate(columns)
                    if c.kind == "lesson" and c.lesson_id is None}
    for text, lesson_id in by_date.items():
        index_of_day.setdefault(text, index_of_lesson[lesson_id])
    index_of_term = {c.term_id: i for i, c in enumerate(columns) if c.term_id}
    cells: dict[tuple[str, int], list[str]] = defaultdict(list)
    for lesson in lessons:
        sheet = copy.attendance.get(lesson["lesson_id"])
        if not sheet:
            continue
        column = index_of_lesson[lesson["lesson_id"]]
        for absence in sheet.get("absent", []):
            if absence["student_id"] in member_ids:
                cells[(absence["student_id"], column)].append(
                    ABSENCE_SIGN.get(absence.get("reason"), "н"))
        for student_id in sheet.get("late", []):
            if student_id in member_ids:
                cells[(student_id, column)].append(LATE_SIGN)
    for mark in sorted(marks, key=lambda m: (m["date"], m["mark_id"])):
        if mark["student_id"] not in member_ids:
            continue
        if mark.get("kind", "current") in FINAL_KINDS:
            if mark.get("term_id") in period_term_ids and mark.get("term_id") in index_of_term:
                cells[(mark["student_id"], index_of_term[mark["term_id"]])] = [mark["value"]]
            continue
        found = index_of_lesson.get(mark.get("lesson_id") or "")
        if found is None:
            found = index_of_day.get(mark["date"])
        if found is not None:
            cells[(mark["student_id"], found)].append(mark["value"])
    for position, entry in enumerate(columns):  # a final mark overdue: "—", not a blank
        if entry.kind == "final" and (as_of is None or entry.day < as_of):
            for student in students:
                cells.setdefault((student.student_id, position), [MISSING_FINAL])
    for exemption in copy.exemptions:  # "осв." where an exempt student has nothing else
        if exemption.get("subject_id") != subject_id or exemption["student_id"] not in member_ids:
            continue
        first, last = exemption["from"], exemption["to"]
        for position, entry in enumerate(columns):
            key = (exemption["student_id"], position)
            if first <= entry.day.isoformat() <= last and (
                    (entry.kind == "lesson" and not cells.get(key))
                    or (entry.kind == "final" and cells.get(key) == [MISSING_FINAL])):
                cells[key] = [EXEMPT_SIGN]
    teachers = list(dict.fromkeys(
        [copy.teachers.get(t, t) for t in plan_teachers]
        + [copy.teachers.get(lesson["teacher_id"], lesson["teacher_id"]) for lesson in lessons
           if not lesson.get("is_substitution")]))
    lines = {}
    for lesson in lessons:
        teacher = copy.teachers.get(lesson["teacher_id"], lesson["teacher_id"])
        note = "замена" if lesson.get("is_substitution") else ""
        lines[lesson["lesson_id"]] = LessonLine(
            date.fromisoformat(lesson["date"]), int(lesson.get("period") or 0),
            (lesson.get("topic") or "").strip(), (lesson.get("homework") or "").strip(),
            teacher, note)
    return SubjectSection(subject_id, subject_name, subgroup, teachers, students, columns,
                          {key: " ".join(values) for key, values in cells.items()}, lines)


def _attendance(copy: ClassCopy, students: list[Student], lessons: list[dict[str, Any]],
                parts: list[Term]) -> list[AttendanceRow]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for lesson in lessons:
        day = date.fromisoformat(lesson["date"])
        term = next((t for t in parts if t.start <= day <= t.end), None)
        sheet = copy.attendance.get(lesson["lesson_id"])
        if term is None or not sheet:
            continue
        for absence in sheet.get("absent", []):
            count = counts[(absence["student_id"], term.term_id)]
            count[0] += 1
            if absence.get("reason") == "illness":
                count[1] += 1
        for student_id in sheet.get("late", []):
            counts[(student_id, term.term_id)][2] += 1
    rows = []
    for student in students:
        by_term = [tuple(counts.get((student.student_id, t.term_id), [0, 0, 0])) for t in parts]
        total = tuple(sum(values[i] for values in by_term) for i in range(3))
        rows.append(AttendanceRow(student, by_term, total))  # type: ignore[arg-type]
    return rows


def _final_marks(sections: list[SubjectSection], parts: list[Term], year: Term | None,
                 ) -> tuple[list[str], dict[tuple[str, str], str]]:
    """The period's closing marks per subject: the year's, or the last term's."""
    closing = year.term_id if year is not None else parts[-1].term_id
    subjects: list[str] = []
    marks: dict[tuple[str, str], str] = {}
    for section in sections:
        if section.subject_name not in subjects:
            subjects.append(section.subject_name)
        column = next((i for i, c in enumerate(section.columns) if c.term_id == closing), None)
        if column is None:
            continue
        for student in section.students:
            value = section.cells.get((student.student_id, column))
            if value:
                marks[(student.student_id, section.subject_name)] = value
    return subjects, marks


def _remarks(copy: ClassCopy, names: dict[str, str], start: date, end: date) -> list[Remark]:
    remarks = []
    for finding in copy.findings:
        day = date.fromisoformat(finding["date"])
        if finding.get("status") == "withdrawn" or not start <= day <= end:
            continue
        teacher_id = finding.get("teacher_id") or ""
        detected = str(finding.get("detected_at") or "")[:10]
        closing = [step for step in finding.get("history") or []
                   if isinstance(step, dict) and step.get("status") == finding.get("status")
                   and finding.get("status") in ("fixed", "waived")]
        closed = str(closing[-1].get("at") or "")[:10] if closing else ""
        remarks.append(Remark(day, names.get(finding.get("subject_id") or "", "") or "—",
                              copy.teachers.get(teacher_id, teacher_id or "—"),
                              str(finding.get("message") or ""),
                              STATUS_NAMES.get(str(finding.get("status")),
                                               str(finding.get("status") or "")),
                              rule=rule_title(str(finding.get("rule") or "")),
                              checked_on=date.fromisoformat(detected) if detected else None,
                              fixed_on=date.fromisoformat(closed) if closed else None,
                              justification=str((closing[-1].get("comment") or "")
                                                if closing else "")))
    return sorted(remarks, key=lambda r: (r.day, r.subject, r.message))


def pack_columns(columns: list[Column], capacity: int) -> list[range]:
    """Split a grid's columns into pages, each filled up to ``capacity`` columns.

    Months run on from one page to the next (the month row names each month where
    it starts on a page), so no page is left a third empty because a month ended.
    A final-marks column never opens a page: it goes with the dates before it, the
    page before it giving up its last date column if it must.
    """
    if capacity < 2:
        raise ValueError("capacity must be at least 2")
    pages: list[range] = []
    start = 0
    while start < len(columns):
        stop = min(start + capacity, len(columns))
        while stop < len(columns) and columns[stop].kind == "final" and stop - start > 1:
            stop -= 1  # the next page must not begin with a final-marks column
        pages.append(range(start, stop))
        start = stop
    return pages


def average(values: list[str]) -> float | None:
    """The mean of the numeric marks among ``values`` (None when there are none)."""
    numbers = [int(v) for v in values if v.isdigit()]
    return round(mean(numbers), 2) if numbers else None
