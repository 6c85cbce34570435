"""The fill-rate report of clause 4.2: topics, homework, attendance and marks entered
on time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.checker.domain.reports.model import (
    Column,
    Report,
    ReportError,
    Table,
    percent,
    ru_date,
)
from services.checker.domain.reports.school_book import SchoolBook

FILL_RATE_DEFINITIONS = {
    "lessons_held": "уроки с датой в периоде (удалённые не считаются)",
    "topics_on_time": "доля уроков, тема которых внесена до конца дня урока "
                      "(срок сдвигается на время сбоя платформы)",
    "homework_on_time": "доля уроков, домашнее задание которых внесено до конца дня урока",
    "homework_ahead": "доля домашних заданий, размещённых не позже чем за "
                      "homework_notice_hours (4) ч до дня следующего урока по предмету "
                      "(п. 3.7, рекомендация; задания, внесённые с опозданием, в день сбоя "
                      "платформы или без следующего урока, не считаются)",
    "attendance_on_time": "доля уроков, посещаемость которых отмечена до конца дня урока",
    "marks_per_lesson": "текущие отметки за уроки периода, делённые на число уроков",
    "marks_on_time": "доля устных и письменных отметок, выставленных в срок "
                     "(устные — в день урока, письменные — в течение недели)",
    "open_findings": "открытые замечания по урокам и отметкам с датой в периоде "
                     "(число по каждому правилу)",
}
FILL_RATE_COLUMNS = (
    Column("class_id", "Класс"), Column("subject", "Предмет"), Column("teacher", "Учитель"),
    Column("lessons_held", "Проведено уроков", FILL_RATE_DEFINITIONS["lessons_held"],
           "integer"),
    Column("topics_on_time", "Темы в срок", FILL_RATE_DEFINITIONS["topics_on_time"],
           "percent"),
    Column("homework_on_time", "Д/з в срок", FILL_RATE_DEFINITIONS["homework_on_time"],
           "percent"),
    Column("homework_ahead", "Д/з заранее", FILL_RATE_DEFINITIONS["homework_ahead"],
           "percent"),
    Column("attendance_on_time", "Посещаемость в срок",
           FILL_RATE_DEFINITIONS["attendance_on_time"], "percent"),
    Column("marks_per_lesson", "Отметок на урок", FILL_RATE_DEFINITIONS["marks_per_lesson"],
           "decimal"),
    Column("marks_on_time", "Отметки в срок", FILL_RATE_DEFINITIONS["marks_on_time"],
           "percent"),
    Column("open_findings", "Открытые замечания", FILL_RATE_DEFINITIONS["open_findings"],
           "rule_counts"),
)


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
    homework_judged: int = 0
    homework_ahead: int = 0
    open_findings: dict[str, int] = field(default_factory=dict)
    lesson_ids: list[str] = field(default_factory=list)

    def share(self, count: int, of: int | None = None) -> float | None:
        total = self.lessons_held if of is None else of
        return round(count / total, 4) if total else None

    def figures(self) -> dict[str, Any]:
        return {
            "lessons_held": self.lessons_held,
            "topics_on_time": self.share(self.topics_on_time),
            "homework_on_time": self.share(self.homework_on_time),
            "homework_ahead": self.share(self.homework_ahead, self.homework_judged),
            "attendance_on_time": self.share(self.attendance_on_time),
            "marks_per_lesson": self.share(self.marks),
            "marks_on_time": self.share(self.marks_on_time, self.marks_with_deadline),
            "open_findings": dict(sorted(self.open_findings.items())),
        }


def fill_rate_table(rows: list[FillRateRow], book: SchoolBook, *, name: str, title: str,
                     with_lessons: bool) -> Table:
    columns = list(FILL_RATE_COLUMNS)
    if with_lessons:
        columns.append(Column("lesson_ids", "Уроки", "идентификаторы уроков, из которых "
                                                     "сложены цифры строки"))
    table_rows = []
    for row in rows:
        cells: dict[str, Any] = {"class_id": row.class_id, "subject": book.subject(row.subject_id),
                                 "teacher": book.teacher(row.teacher_id),
                                 "subject_id": row.subject_id, "teacher_id": row.teacher_id,
                                 **row.figures()}
        if with_lessons:
            cells["lesson_ids"] = row.lesson_ids
        table_rows.append(cells)
    return Table(name, title, columns, table_rows)


def fill_rate_report(rows: list[FillRateRow], book: SchoolBook, *, date_from: date,
                     date_to: date, with_lessons: bool = False) -> Report:
    """``rows``: one per class, subject and teacher, summed over the period's lessons."""
    if date_from > date_to:
        raise ReportError("начало периода позже его конца")
    total = FillRateRow("", "", "")
    for row in rows:
        for name in ("lessons_held", "topics_on_time", "homework_on_time", "attendance_on_time",
                     "marks", "marks_with_deadline", "marks_on_time", "homework_judged",
                     "homework_ahead"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    figures = total.figures()
    summary = [("Период", f"{ru_date(date_from)} – {ru_date(date_to)}"),
               ("Проведено уроков", str(total.lessons_held)),
               ("Темы в срок", percent(figures["topics_on_time"])),
               ("Д/з в срок", percent(figures["homework_on_time"])),
               ("Д/з размещено заранее", percent(figures["homework_ahead"])),
               ("Посещаемость в срок", percent(figures["attendance_on_time"])),
               ("Отметки в срок", percent(figures["marks_on_time"]))]
    return Report("fill_rate", "Заполнение электронного журнала",
                  {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
                  summary, [fill_rate_table(rows, book, name="rows",
                                             title="Классы, предметы, учителя",
                                             with_lessons=with_lessons)])
