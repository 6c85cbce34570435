"""Monitoring reports of clause 4.2 (pure): fill rate, quarter analysis, program, teachers.

Two steps. The sweep turns the facts into small statistics that stay valid
until the facts change: one :class:`LessonStat` per live lesson (was the
topic, the homework, the attendance entered by the deadline; how many marks,
how many of them on time) and the number of term marks set per class, subject
and term. A report then only sums those rows and counts findings, so it takes
milliseconds even for a school year, and every figure can be traced: each
column says how it is computed and a row can list the lessons behind it.

A report is plain data (:class:`Report`): a Russian title, label/value pairs
for its heading, and tables whose columns carry a key, a Russian heading and a
definition. The API, CSV/XLSX downloads and the printer all render that.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import (
    FINAL_KINDS,
    WRITTEN_KINDS,
    Calendar,
    Parameters,
    Term,
    homework_notice,
    next_lesson_days,
    sets_homework,
)
from shared.events.rules import CATALOG

KINDS = ("fill_rate", "quarter_analysis", "program_completion", "teacher_summary",
         "academic_results", "marks_objectivity", "journal_visits")


class ReportError(ValueError):
    """The request cannot be answered (the message is for the user, in Russian)."""


# Statistics kept by the sweep --------------------------------------------------------------
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


# What a report is built from ---------------------------------------------------------------
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


# The report as data ------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    title: str
    definition: str | None = None
    #: how papers and workbooks show the values: "percent" (a share 0…1), "decimal",
    #: "integer", "date", "rule_counts" ({rule id: count}); None: as they are
    format: str | None = None


@dataclass
class Table:
    name: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    #: How the printer may draw the table (docs/reports.md, "chart"): optional.
    chart: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        made: dict[str, Any] = {"name": self.name, "title": self.title,
                "columns": [{"key": c.key, "title": c.title, "definition": c.definition,
                             **({"format": c.format} if c.format else {})}
                            for c in self.columns],
                "rows": self.rows}
        if self.chart is not None:
            made["chart"] = self.chart
        return made


@dataclass
class Report:
    kind: str
    title: str
    parameters: dict[str, Any]
    summary: list[tuple[str, str]]
    tables: list[Table]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "parameters": self.parameters,
                "summary": [list(pair) for pair in self.summary],
                "tables": [table.as_dict() for table in self.tables]}


# Fill rate ------------------------------------------------------------------------------
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


def _fill_rate_table(rows: list[FillRateRow], book: SchoolBook, *, name: str, title: str,
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
    summary = [("Период", f"{_ru(date_from)} – {_ru(date_to)}"),
               ("Проведено уроков", str(total.lessons_held)),
               ("Темы в срок", _percent(figures["topics_on_time"])),
               ("Д/з в срок", _percent(figures["homework_on_time"])),
               ("Д/з размещено заранее", _percent(figures["homework_ahead"])),
               ("Посещаемость в срок", _percent(figures["attendance_on_time"])),
               ("Отметки в срок", _percent(figures["marks_on_time"]))]
    return Report("fill_rate", "Заполнение электронного журнала",
                  {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
                  summary, [_fill_rate_table(rows, book, name="rows",
                                             title="Классы, предметы, учителя",
                                             with_lessons=with_lessons)])


# Journal visits (clause 4.3) ----------------------------------------------------------
JOURNAL_VISITS_COLUMNS = (
    Column("class_id", "Класс"), Column("student", "Ученик"),
    Column("last_student_visit", "Последнее посещение ученика",
           "последний день, в который ученик открывал электронный журнал (по данным "
           "Күндөлүк); пусто — ни разу за отчётный период"),
    Column("last_parent_visit", "Последнее посещение родителей",
           "последний день, в который журнал открывали родители (законные представители)"),
    Column("student_days", "Дней без посещения (ученик)",
           "дней от последнего посещения до последнего дня, за который Күндөлүк прислал "
           "данные; без посещений — все дни отчётного периода"),
    Column("parent_days", "Дней без посещения (родители)", "так же, для родителей"),
    Column("behind", "Не посещали", "кто не открывал журнал заданное число дней и более"),
    Column("class_teacher", "Классный руководитель",
           "следит за посещаемостью журнала учениками и родителями (п. 4.3)"),
)


def journal_visits_report(rows: list[dict[str, Any]], book: SchoolBook, *, days: int,
                          class_id: str | None = None, scope: Scope = WHOLE_SCHOOL) -> Report:
    """Per class, who has not opened the journal for ``days`` days or more (clause 4.3:
    class teachers «осуществляют контроль посещаемости ЭЖ родителями и обучающимися»).
    ``rows``: :func:`services.checker.domain.rules.visit_rows`."""
    shown = [row for row in rows if (class_id is None or row["class_id"] == class_id)
             and scope.sees(row["class_id"], row["class_teacher_id"])]
    if class_id is not None and not shown and scope.teacher_id is not None \
            and not scope.sees(class_id, None):
        raise ReportError("этот класс вне вашей области доступа")
    by_class: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in shown:
        by_class[row["class_id"]].append(row)
    tables = []
    for cid, items in sorted(by_class.items()):
        teacher_id = items[0]["class_teacher_id"]
        tables.append(Table(f"class_{cid}", f"Класс {cid}: посещение электронного журнала",
                            JOURNAL_VISITS_COLUMNS, [{
            "class_id": cid, "student": row["full_name"] or row["student_id"],
            "student_id": row["student_id"],
            "last_student_visit": _iso_or_none(row["last_student_visit"]),
            "last_parent_visit": _iso_or_none(row["last_parent_visit"]),
            "student_days": row["student_days"], "parent_days": row["parent_days"],
            "behind": row["who"], "class_teacher": book.teacher(teacher_id),
            "class_teacher_id": teacher_id}
            for row in sorted(items, key=lambda r: (r["full_name"], r["student_id"]))]))
    until = max((row["reported_to"] for row in shown), default=None)
    summary = [("Не посещали журнал", f"{days} дн. и более"),
               ("Данные Күндөлүк по", _ru(until) if until else "нет данных"),
               ("Классов", str(len(by_class))),
               ("Учеников, не посещавших журнал", str(sum(
                   1 for row in shown if "ученик" in row["who"]))),
               ("Учеников, чьи родители не посещали журнал", str(sum(
                   1 for row in shown if "родители" in row["who"])))]
    return Report("journal_visits", "Посещение электронного журнала учениками и родителями",
                  {"days": days}, summary, tables)


def _iso_or_none(day: date | None) -> str | None:
    return day.isoformat() if day else None


# Program completion ---------------------------------------------------------------------
@dataclass(frozen=True)
class ProgramRow:
    class_id: str
    subject_id: str
    subgroup: str | None
    term_id: str
    teacher_id: str
    planned_total: int
    planned_to_date: int
    held_to_date: int

    @property
    def behind(self) -> int:
        """Positive: lessons behind the КТП; negative: ahead of it."""
        return self.planned_to_date - self.held_to_date


Held = dict[tuple[str, str, str | None, str], int]  # (class, subject, subgroup, term) -> n


def program_completion(plans: Iterable[Plan], held: Held, terms: list[Term], *, on: date,
                       scope: Scope = WHOLE_SCHOOL) -> list[ProgramRow]:
    """Per plan (КТП): lessons planned up to ``on`` against lessons held from the term's
    start up to it (``held``, counted over the same days)."""
    by_id = {term.term_id: term for term in terms}
    rows = []
    for plan in sorted(plans, key=lambda p: (p.class_id, p.subject_id, p.subgroup or "",
                                              p.term_id)):
        term = by_id.get(plan.term_id)
        if term is None or term.start > on or not scope.sees(plan.class_id, plan.teacher_id):
            continue
        until = min(on, term.end)
        planned = bisect_right(plan.planned_dates, until.isoformat())
        done = held.get((plan.class_id, plan.subject_id, plan.subgroup, plan.term_id), 0)
        rows.append(ProgramRow(plan.class_id, plan.subject_id, plan.subgroup, plan.term_id,
                               plan.teacher_id, len(plan.planned_dates), planned, done))
    return rows


PROGRAM_COLUMNS = (
    Column("class_id", "Класс"), Column("subject", "Предмет"), Column("subgroup", "Подгруппа"),
    Column("term_id", "Период"), Column("teacher", "Учитель"),
    Column("planned_total", "По КТП за период", "уроков в календарно-тематическом плане "
                                                "на весь период"),
    Column("planned_to_date", "По КТП на дату", "уроков плана с датой не позже даты отчёта"),
    Column("held_to_date", "Проведено", "проведённых уроков класса (подгруппы) по предмету "
                                        "с начала периода до даты отчёта"),
    Column("behind", "Отставание", "по плану на дату минус проведено: больше нуля — "
                                   "отставание, меньше нуля — опережение"),
)


def _program_table(rows: list[ProgramRow], book: SchoolBook) -> Table:
    return Table("program", "Выполнение программы по КТП", PROGRAM_COLUMNS, [
        {"class_id": r.class_id, "subject": book.subject(r.subject_id), "subject_id": r.subject_id,
         "subgroup": r.subgroup, "term_id": r.term_id, "teacher": book.teacher(r.teacher_id),
         "teacher_id": r.teacher_id, "planned_total": r.planned_total,
         "planned_to_date": r.planned_to_date, "held_to_date": r.held_to_date,
         "behind": r.behind} for r in rows])


def program_report(plans: Iterable[Plan], held: Held, book: SchoolBook, *, on: date,
                   scope: Scope = WHOLE_SCHOOL) -> Report:
    rows = program_completion(plans, held, book.terms, on=on, scope=scope)
    behind = sum(1 for r in rows if r.behind > 0)
    return Report("program_completion", "Выполнение программы (КТП)", {"on": on.isoformat()},
                  [("На дату", _ru(on)), ("Планов", str(len(rows))),
                   ("С отставанием", str(behind))],
                  [_program_table(rows, book)])


# Quarter analysis of one class journal -----------------------------------------------------
def quarter_analysis(class_id: str, term: Term, *, fill: list[FillRateRow],
                     findings: Iterable[FindingRef], held: Held,
                     final_counts: dict[tuple[str, str, str], int], book: SchoolBook,
                     scope: Scope = WHOLE_SCHOOL) -> Report:
    """``fill``: the class's fill-rate rows for the term; ``findings`` of the class."""
    findings = [f for f in findings if f.class_id == class_id and f.status != "withdrawn"
                and term.start <= f.date <= term.end]
    plans = [p for p in book.plans if p.class_id == class_id and p.term_id == term.term_id]
    visible = [f for f in findings if scope.sees(f.class_id, f.teacher_id)]
    by_teacher_rule: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for finding in visible:
        by_teacher_rule[(finding.teacher_id or "", finding.rule)][finding.status] += 1
    findings_rows = [
        {"teacher": book.teacher(teacher_id), "teacher_id": teacher_id or None, "rule": rule,
         "clause": CATALOG[rule].clause if rule in CATALOG else "",
         "total": sum(counts.values()), "open": counts["open"], "fixed": counts["fixed"],
         "waived": counts["waived"]}
        for (teacher_id, rule), counts in sorted(by_teacher_rule.items())]
    finals: dict[str, Counter[str]] = defaultdict(Counter)
    subjects: dict[str, str] = {}
    for plan in plans:
        if scope.sees(plan.class_id, plan.teacher_id):
            subjects.setdefault(plan.subject_id, plan.teacher_id)
    for finding in visible:
        if finding.rule.startswith("final_mark.") and finding.subject_id:
            finals[finding.subject_id][finding.rule] += 1
    final_rows = [
        {"subject": book.subject(subject_id), "subject_id": subject_id,
         "teacher": book.teacher(teacher_id),
         "marks_set": final_counts.get((class_id, subject_id, term.term_id), 0),
         "late_or_missing": finals[subject_id]["final_mark.late"],
         "insufficient": finals[subject_id]["final_mark.insufficient_marks"],
         "inconsistent": finals[subject_id]["final_mark.inconsistent"]}
        for subject_id, teacher_id in sorted(subjects.items())]
    program = program_completion(plans, held, book.terms, on=min(book.today, term.end),
                                 scope=scope)
    summary = [("Класс", class_id), ("Период", f"{term.term_id}: {_ru(term.start)} – "
                                                f"{_ru(term.end)}"),
               ("Классный руководитель", book.teacher(book.homeroom.get(class_id))),
               ("Замечаний за период", str(len(visible))),
               ("Из них не устранено", str(sum(1 for f in visible if f.status == "open")))]
    return Report("quarter_analysis", f"Анализ классного журнала {class_id} за период",
                  {"class_id": class_id, "term_id": term.term_id}, summary, [
                      _fill_rate_table(fill, book, name="fill_rate",
                                       title="Заполнение по предметам", with_lessons=False),
                      Table("findings", "Замечания по учителям и правилам", FINDINGS_COLUMNS,
                            findings_rows),
                      Table("final_marks", "Итоговые отметки за период", FINAL_COLUMNS,
                            final_rows),
                      _program_table(program, book)])


FINDINGS_COLUMNS = (
    Column("teacher", "Учитель"), Column("rule", "Правило"), Column("clause", "Пункт"),
    Column("total", "Всего", "замечания по урокам, отметкам и итогам с датой в периоде "
                             "(отозванные проверкой не считаются)"),
    Column("open", "Не устранено"), Column("fixed", "Устранено"),
    Column("waived", "Снято с обоснованием"),
)
FINAL_COLUMNS = (
    Column("subject", "Предмет"), Column("teacher", "Учитель"),
    Column("marks_set", "Выставлено", "учеников с итоговой отметкой (или «н/а») за период"),
    Column("late_or_missing", "Не выставлено или с опозданием",
           "замечания final_mark.late: отметки нет или она внесена после срока"),
    Column("insufficient", "Мало текущих отметок", "замечания final_mark.insufficient_marks"),
    Column("inconsistent", "Не соответствуют текущим", "замечания final_mark.inconsistent: "
                                                       "итог отличается от среднего текущих"),
)


# Teacher summary -----------------------------------------------------------------------
SUMMARY_COLUMNS = (
    Column("teacher", "Учитель"), Column("rule", "Правило"), Column("clause", "Пункт"),
    Column("this_term", "За период", "замечания с датой в периоде (кроме отозванных)"),
    Column("previous_term", "За прошлый период", "то же за предыдущий период того же вида"),
    Column("change", "Изменение", "за период минус за прошлый: меньше нуля — улучшение"),
)


def teacher_summary(findings: Iterable[FindingRef], book: SchoolBook, term: Term, *,
                    scope: Scope = WHOLE_SCHOOL, teacher_id: str | None = None) -> Report:
    previous = book.previous(term)
    now: Counter[tuple[str, str]] = Counter()
    before: Counter[tuple[str, str]] = Counter()
    for finding in findings:
        if finding.status == "withdrawn" or not finding.teacher_id \
                or not scope.sees(finding.class_id, finding.teacher_id) \
                or (teacher_id is not None and finding.teacher_id != teacher_id):
            continue
        key = (finding.teacher_id, finding.rule)
        if term.start <= finding.date <= term.end:
            now[key] += 1
        elif previous is not None and previous.start <= finding.date <= previous.end:
            before[key] += 1
    rows = [{"teacher": book.teacher(t), "teacher_id": t, "rule": rule,
             "clause": CATALOG[rule].clause if rule in CATALOG else "",
             "this_term": now[(t, rule)], "previous_term": before[(t, rule)],
             "change": now[(t, rule)] - before[(t, rule)]}
            for t, rule in sorted(set(now) | set(before),
                                  key=lambda k: (book.teacher(k[0]), k[0], k[1]))]
    summary = [("Период", f"{term.term_id}: {_ru(term.start)} – {_ru(term.end)}"),
               ("Прошлый период", previous.term_id if previous else "нет"),
               ("Замечаний за период", str(sum(now.values()))),
               ("За прошлый период", str(sum(before.values())))]
    return Report("teacher_summary", "Сводка по учителям",
                  {"term_id": term.term_id, "teacher_id": teacher_id}, summary,
                  [Table("teachers", "Замечания по учителям и правилам", SUMMARY_COLUMNS, rows)])


# Scheduled reports -----------------------------------------------------------------------
FILL_RATE_DAYS = 14  # clause 4.2: the journal is checked every two weeks


def due_reports(book: SchoolBook, final_mark_days: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, period, parameters) the school should have by ``book.today`` (pure).

    The two-week check covers fortnights counted from the first day of the
    school year; the latest one that has ended is due. A quarter's analyses
    (one per class) are due once its final marks' deadline has passed; only
    the latest such quarter. Earlier periods are not made retroactively.
    """
    quarters = sorted((t for t in book.terms if t.kind == "quarter"), key=lambda t: t.start)
    if not quarters:
        return []
    due: list[tuple[str, str, dict[str, Any]]] = []
    first, last = quarters[0].start, quarters[-1].end
    ended = min(book.today - timedelta(days=1), last)
    if ended >= first + timedelta(days=FILL_RATE_DAYS - 1):
        index = ((ended - first).days + 1) // FILL_RATE_DAYS - 1
        start = first + timedelta(days=FILL_RATE_DAYS * index)
        end = start + timedelta(days=FILL_RATE_DAYS - 1)
        due.append(("fill_rate", f"{start.isoformat()}/{end.isoformat()}",
                    {"date_from": start.isoformat(), "date_to": end.isoformat()}))
    closed = [t for t in quarters
              if t.end + timedelta(days=final_mark_days) < book.today]
    if closed:
        term = closed[-1]
        for class_id in sorted(book.homeroom):
            due.append(("quarter_analysis", f"{term.term_id}:{class_id}",
                        {"class_id": class_id, "term_id": term.term_id}))
    return due


def _ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _percent(share: float | None) -> str:
    """A share as a Russian reader writes it: «99,2 %» (decimal comma)."""
    return "—" if share is None else f"{share * 100:.1f} %".replace(".", ",")

