"""The teacher summary: a term's findings per teacher."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from services.checker.domain.reports.model import Column, Report, Table, ru_date
from services.checker.domain.reports.school_book import WHOLE_SCHOOL, FindingRef, SchoolBook, Scope
from services.checker.domain.rules import Term
from shared.events.rules import CATALOG

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
    summary = [("Период", f"{term.term_id}: {ru_date(term.start)} – {ru_date(term.end)}"),
               ("Прошлый период", previous.term_id if previous else "нет"),
               ("Замечаний за период", str(sum(now.values()))),
               ("За прошлый период", str(sum(before.values())))]
    return Report("teacher_summary", "Сводка по учителям",
                  {"term_id": term.term_id, "teacher_id": teacher_id}, summary,
                  [Table("teachers", "Замечания по учителям и правилам", SUMMARY_COLUMNS, rows)])
