"""A class journal laid out for the class teacher's export (clause 4.2) (pure).

Built from the derived tables: the lessons of the class (date, period,
subject, topic, homework, teacher by name), and per subject a grid of students
× lesson dates holding the marks and the attendance codes the printed journal
uses (shared/events/journal_codes.py: «н», «б», «у», «о»). Names stand beside
the ids, which stay for programs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from services.backup.domain.derived import TABLES, TableFolder
from shared.events.journal_codes import LATE, absence_code

LESSON_COLUMNS_RU = ("Дата", "Урок", "Предмет", "Подгруппа", "Тема", "Домашнее задание",
                     "Учитель")
FLAT_COLUMNS = ("date", "period", "subject_id", "subject_name", "subgroup", "topic",
                "homework", "teacher_id", "student_id", "student_name", "marks", "attendance",
                "teacher_name", "class_id", "class_name")


@dataclass
class SubjectGrid:
    subject: str
    dates: list[str]
    #: student name → date → cell text
    cells: dict[str, dict[str, str]]


@dataclass
class ClassJournal:
    class_id: str
    academic_year: str
    students: list[tuple[str, str]]                  # (student_id, full name)
    lessons: list[dict[str, Any]]
    flat: list[tuple[Any, ...]] = field(default_factory=list)
    grids: list[SubjectGrid] = field(default_factory=list)
    class_name: str = ""
    school_name: str = ""
    teachers: dict[str, str] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)


def _spec(name: str) -> Any:
    return next(spec for spec in TABLES if spec.name == name)


def _dicts(folder: TableFolder, name: str) -> list[dict[str, Any]]:
    spec = _spec(name)
    return [dict(zip(spec.columns, row, strict=True)) for row in folder.rows(spec)]


def build(folder: TableFolder, class_id: str) -> ClassJournal:
    rosters = [r for r in _dicts(folder, "rosters") if r["class_id"] == class_id]
    year = max((r["academic_year"] for r in rosters), default="")
    students = sorted({(r["student_id"], r["full_name"]) for r in rosters
                       if r["academic_year"] == year}, key=lambda s: (s[1] or "", s[0]))
    names = dict(students)
    grade = next((r["grade"] for r in rosters if r["academic_year"] == year), None)
    display = next((r["class_name"] for r in rosters
                    if r["academic_year"] == year and r.get("class_name")), None)
    class_name = display or (class_id if grade is None or class_id.startswith(str(grade))
                             else f"{grade} {class_id}")
    school_name = next((str(c["school_name"]) for c in _dicts(folder, "calendars")
                        if c.get("school_name")), "")
    teachers = {t["teacher_id"]: t["full_name"] for t in _dicts(folder, "teachers")}
    subjects = {p["subject_id"]: p["subject_name"] for p in _dicts(folder, "plans")
                if p["class_id"] == class_id}
    lessons = sorted((lesson for lesson in _dicts(folder, "lessons")
                      if lesson["class_id"] == class_id),
                     key=lambda x: (x["date"], x["period"] or 0, x["subject_id"]))
    lesson_ids = {lesson["lesson_id"] for lesson in lessons}
    marks: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_day: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for mark in _dicts(folder, "marks"):
        if mark["class_id"] != class_id:
            continue
        if mark["lesson_id"] in lesson_ids:
            marks[(mark["lesson_id"], mark["student_id"])].append(str(mark["value"]))
        elif mark["kind"] == "current":
            by_day[(mark["subject_id"], mark["date"], mark["student_id"])].append(
                str(mark["value"]))
    presence: dict[tuple[str, str], str] = {}
    for row in _dicts(folder, "attendance"):
        if row["lesson_id"] in lesson_ids:
            presence[(row["lesson_id"], row["student_id"])] = (
                absence_code(row["reason"]) if row["status"] == "absent" else LATE)
    journal = ClassJournal(class_id, year, students, lessons, class_name=class_name,
                           school_name=school_name, teachers=teachers, subjects=subjects)
    grids: dict[str, SubjectGrid] = {}
    for lesson in lessons:
        subject = subjects.get(lesson["subject_id"], lesson["subject_id"])
        grid = grids.setdefault(lesson["subject_id"], SubjectGrid(subject, [], {}))
        column = f"{lesson['date']}/{lesson['period']}"
        grid.dates.append(column)
        for student_id, name in students:
            key = (lesson["lesson_id"], student_id)
            cell_marks = marks.get(key, []) or by_day.get(
                (lesson["subject_id"], lesson["date"], student_id), [])
            cell = " ".join([*([presence[key]] if key in presence else []), *cell_marks])
            if cell:
                grid.cells.setdefault(name, {})[column] = cell
            journal.flat.append((lesson["date"], lesson["period"], lesson["subject_id"],
                                 subject, lesson["subgroup"], lesson["topic"],
                                 lesson["homework"], lesson["teacher_id"], student_id,
                                 names.get(student_id), " ".join(cell_marks),
                                 presence.get(key, ""),
                                 teachers.get(lesson["teacher_id"], lesson["teacher_id"]),
                                 class_id, class_name))
    journal.grids = [grids[k] for k in sorted(grids, key=lambda k: grids[k].subject or k)]
    return journal
