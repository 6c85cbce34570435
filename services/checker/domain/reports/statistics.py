"""Statistics kept by the sweep: one row per live lesson, term marks counted."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import (
    FINAL_KINDS,
    WRITTEN_KINDS,
    Calendar,
    Parameters,
    homework_notice,
    next_lesson_days,
    sets_homework,
)


@dataclass(frozen=True)
class LessonStat:
    lesson_id: str
    class_id: str
    subject_id: str
    subgroup: str | None
    teacher_id: str
    date: date
    topic_on_time: bool
    homework_on_time: bool
    attendance_on_time: bool
    marks: int = 0
    marks_with_deadline: int = 0
    marks_on_time: int = 0
    #: clause 3.7: homework whose notice before the next lesson is judged (0 or 1), and
    #: posted at least ``homework_notice_hours`` ahead of it (0 or 1)
    homework_judged: int = 0
    homework_ahead: int = 0


def lesson_statistics(facts: SchoolFacts, params: Parameters | None = None) -> list[LessonStat]:
    """One row per live lesson: what was entered by its deadline, and its current marks.

    Deadlines are those of the rules (clause 4.4): the end of the lesson's day
    for topic, homework and attendance, moved past platform outages; oral marks
    the same day, written work within ``written_mark_days``.
    """
    params = params or Parameters()
    calendar = Calendar(facts, params)
    marks: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for mark in facts.marks.values():
        data = mark.data
        if not mark.live or data is None or data["kind"] != "current" or not data.get("lesson_id"):
            continue
        work_type = data.get("work_type")
        judged = work_type == "oral" or work_type in WRITTEN_KINDS
        on_time = False
        if judged:
            day = date.fromisoformat(data["date"])
            days = params.oral_mark_days if work_type == "oral" else params.written_mark_days
            on_time = _by(mark.first_at, calendar.deadline(day, day + timedelta(days=days)))
        marks[data["lesson_id"]].append((judged, on_time))
    streams: dict[tuple[str, str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for lesson in facts.lessons.values():
        if lesson.live and lesson.data is not None:
            streams[(lesson.data["class_id"], lesson.data["subject_id"],
                     lesson.data.get("subgroup"))].append(lesson.data)
    following: dict[str, date] = {}
    for stream in streams.values():
        stream.sort(key=lambda d: (d["date"], d["period"], d["lesson_id"]))
        following.update(next_lesson_days(stream))
    grades = {cid: c.data["grade"] for cid, c in facts.classes.items() if c.data}
    notice_wanted = timedelta(hours=params.homework_notice_hours)
    rows = []
    for lesson_id, lesson in facts.lessons.items():
        data = lesson.data
        if not lesson.live or data is None:
            continue
        day = date.fromisoformat(data["date"])
        deadline = calendar.deadline(day, day)
        notice = None
        if sets_homework(data) and grades.get(data["class_id"], 99) >= params.homework_from_grade:
            notice = homework_notice(calendar, lesson.first_homework_at, day,
                                     following.get(lesson_id), deadline)
        sheet = facts.attendance.get(lesson_id)
        of_lesson = marks.get(lesson_id, [])
        rows.append(LessonStat(
            lesson_id=lesson_id, class_id=data["class_id"], subject_id=data["subject_id"],
            subgroup=data.get("subgroup"), teacher_id=data["teacher_id"], date=day,
            topic_on_time=_by(lesson.first_topic_at, deadline),
            homework_on_time=_by(lesson.first_homework_at, deadline),
            attendance_on_time=_by(sheet.first_at if sheet and sheet.live else None, deadline),
            marks=len(of_lesson), marks_with_deadline=sum(j for j, _ in of_lesson),
            marks_on_time=sum(t for _, t in of_lesson),
            homework_judged=int(notice is not None),
            homework_ahead=int(notice is not None and notice >= notice_wanted)))
    rows.sort(key=lambda r: r.lesson_id)
    return rows


def final_mark_counts(facts: SchoolFacts) -> dict[tuple[str, str, str], int]:
    """Term and year marks set (a grade or "н/а"), per (class, subject, term)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    seen: set[tuple[str, str, str]] = set()
    for mark in facts.marks.values():
        data = mark.data
        if not mark.live or data is None or data["kind"] not in FINAL_KINDS \
                or not data.get("term_id"):
            continue
        student = (data["student_id"], data["subject_id"], data["term_id"])
        if student in seen:  # one final mark per student, subject and term
            continue
        seen.add(student)
        counts[(data["class_id"], data["subject_id"], data["term_id"])] += 1
    return dict(counts)


def _by(entered: datetime | None, deadline: datetime) -> bool:
    return entered is not None and entered <= deadline
