"""The quarter analysis of one class journal."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from services.checker.domain.reports.fill_rate import FillRateRow, fill_rate_table
from services.checker.domain.reports.model import Column, Report, Table, ru_date
from services.checker.domain.reports.program import Held, program_completion, program_table
from services.checker.domain.reports.school_book import WHOLE_SCHOOL, FindingRef, SchoolBook, Scope
from services.checker.domain.rules import Term
from shared.events.rules import CATALOG


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
    summary = [("Класс", class_id), ("Период", f"{term.term_id}: {ru_date(term.start)} – "
                                                f"{ru_date(term.end)}"),
               ("Классный руководитель", book.teacher(book.homeroom.get(class_id))),
               ("Замечаний за период", str(len(visible))),
               ("Из них не устранено", str(sum(1 for f in visible if f.status == "open")))]
    return Report("quarter_analysis", f"Анализ классного журнала {class_id} за период",
                  {"class_id": class_id, "term_id": term.term_id}, summary, [
                      fill_rate_table(fill, book, name="fill_rate",
                                       title="Заполнение по предметам", with_lessons=False),
                      Table("findings", "Замечания по учителям и правилам", FINDINGS_COLUMNS,
                            findings_rows),
                      Table("final_marks", "Итоговые отметки за период", FINAL_COLUMNS,
                            final_rows),
                      program_table(program, book)])


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
