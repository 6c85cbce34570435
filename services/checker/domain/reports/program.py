"""Program completion: lessons held against the КТП."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.checker.domain.reports.model import Column, Report, Table, ru_date
from services.checker.domain.reports.school_book import WHOLE_SCHOOL, Plan, SchoolBook, Scope
from services.checker.domain.rules import Term


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


def program_table(rows: list[ProgramRow], book: SchoolBook) -> Table:
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
                  [("На дату", ru_date(on)), ("Планов", str(len(rows))),
                   ("С отставанием", str(behind))],
                  [program_table(rows, book)])
