"""Monitoring reports of clause 4.2, computed from the facts (pure).

Started with issue 5: the two-week fill-rate report and program completion.
Every figure says how it is computed (``FILL_RATE_DEFINITIONS``) and a row
keeps the lessons behind it, so any number can be traced to the journal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import WRITTEN_KINDS, Calendar, Finding, Parameters

FILL_RATE_DEFINITIONS = {
    "lessons_held": "уроки класса по предмету у учителя с датой в периоде (удалённые не считаются)",
    "topics_on_time": "доля уроков, тема которых внесена до конца дня урока "
                      "(с учётом сбоев платформы)",
    "homework_on_time": "доля уроков, домашнее задание которых внесено до конца дня урока",
    "attendance_on_time": "доля уроков, посещаемость которых отмечена до конца дня урока",
    "marks_per_lesson": "текущие отметки за уроки периода, делённые на число уроков",
    "marks_on_time": "доля устных и письменных отметок, выставленных в срок "
                     "(устные — в день урока, письменные — за 7 дней)",
    "open_findings": "открытые замечания по урокам и отметкам этого класса, предмета и "
                     "учителя с датой в периоде, по правилам",
}


@dataclass
class FillRateRow:
    class_id: str
    subject_id: str
    teacher_id: str
    lessons_held: int = 0
    topics_on_time: int = 0
    homework_on_time: int = 0
    attendance_on_time: int = 0
    marks: int = 0
    marks_with_deadline: int = 0
    marks_on_time: int = 0
    open_findings: dict[str, int] = field(default_factory=dict)
    lesson_ids: list[str] = field(default_factory=list)

    def share(self, count: int, of: int | None = None) -> float | None:
        total = self.lessons_held if of is None else of
        return round(count / total, 4) if total else None

    def figures(self) -> dict[str, object]:
        return {
            "class_id": self.class_id, "subject_id": self.subject_id,
            "teacher_id": self.teacher_id, "lessons_held": self.lessons_held,
            "topics_on_time": self.share(self.topics_on_time),
            "homework_on_time": self.share(self.homework_on_time),
            "attendance_on_time": self.share(self.attendance_on_time),
            "marks_per_lesson": self.share(self.marks),
            "marks_on_time": self.share(self.marks_on_time, self.marks_with_deadline),
            "open_findings": dict(sorted(self.open_findings.items())),
        }


def fill_rate(facts: SchoolFacts, findings: Iterable[Finding], *, date_from: date,
              date_to: date, params: Parameters | None = None) -> list[FillRateRow]:
    """Per class, subject and teacher: how the journal was filled in the period."""
    params = params or Parameters()
    calendar = Calendar(facts, params)
    rows: dict[tuple[str, str, str], FillRateRow] = {}
    lesson_row: dict[str, FillRateRow] = {}
    for lesson_id, lesson in sorted(facts.lessons.items()):
        data = lesson.data
        if not lesson.live or data is None:
            continue
        day = date.fromisoformat(data["date"])
        if not date_from <= day <= date_to:
            continue
        key = (data["class_id"], data["subject_id"], data["teacher_id"])
        row = rows.setdefault(key, FillRateRow(*key))
        deadline = calendar.deadline(day, day)
        sheet = facts.attendance.get(lesson_id)
        row.lessons_held += 1
        row.lesson_ids.append(lesson_id)
        row.topics_on_time += _by(lesson.first_topic_at, deadline)
        row.homework_on_time += _by(lesson.first_homework_at, deadline)
        row.attendance_on_time += _by(sheet.first_at if sheet else None, deadline)
        lesson_row[lesson_id] = row
    for mark in facts.marks.values():
        data = mark.data
        if not mark.live or data is None or data["kind"] != "current":
            continue
        row_of_mark = lesson_row.get(data.get("lesson_id") or "")
        if row_of_mark is None:
            continue
        row_of_mark.marks += 1
        work_type = data.get("work_type")
        if work_type == "oral" or work_type in WRITTEN_KINDS:
            day = date.fromisoformat(data["date"])
            days = params.oral_mark_days if work_type == "oral" else params.written_mark_days
            row_of_mark.marks_with_deadline += 1
            row_of_mark.marks_on_time += _by(mark.first_at,
                                             calendar.deadline(day, day + timedelta(days=days)))
    counts: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for finding in findings:
        key = (finding.class_id or "", finding.subject_id or "", finding.teacher_id or "")
        if key in rows and date_from <= finding.date <= date_to:
            counts[key][finding.rule] = counts[key].get(finding.rule, 0) + 1
    for key, by_rule in counts.items():
        rows[key].open_findings = by_rule
    return [rows[key] for key in sorted(rows)]


def _by(entered: datetime | None, deadline: datetime) -> int:
    return int(entered is not None and entered <= deadline)


@dataclass(frozen=True)
class ProgramRow:
    class_id: str
    subject_id: str
    subgroup: str | None
    term_id: str
    planned_to_date: int
    held_to_date: int

    @property
    def behind(self) -> int:
        """Positive: lessons behind the КТП; negative: ahead of it."""
        return self.planned_to_date - self.held_to_date


def program_completion(facts: SchoolFacts, *, on: date) -> list[ProgramRow]:
    """Per plan (КТП): lessons planned up to ``on`` against lessons held up to it."""
    held: dict[tuple[str, str, str | None], list[date]] = defaultdict(list)
    for lesson in facts.lessons.values():
        if lesson.live and lesson.data is not None:
            data = lesson.data
            held[(data["class_id"], data["subject_id"], data.get("subgroup"))].append(
                date.fromisoformat(data["date"]))
    terms = {t["id"]: t for t in (facts.calendar.data or {}).get("terms", [])}
    rows = []
    for (class_id, subject_id, subgroup, term_id), plan in sorted(
            facts.plans.items(), key=lambda kv: str(kv[0])):
        term = terms.get(term_id)
        if plan.data is None or term is None or date.fromisoformat(term["start"]) > on:
            continue
        start, end = date.fromisoformat(term["start"]), date.fromisoformat(term["end"])
        until = min(on, end)
        planned = sum(1 for p in plan.data["lessons"]
                      if date.fromisoformat(p["planned_date"]) <= until)
        done = sum(1 for d in held[(class_id, subject_id, subgroup)] if start <= d <= until)
        rows.append(ProgramRow(class_id, subject_id, subgroup, term_id, planned, done))
    return rows
