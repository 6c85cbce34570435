"""Each report kind against what the simulator planted and the raw events (recounted by hand).

The checker is exact on simulated schools (its findings equal the planted
faults, see test_checker_scoring), so the counts of findings in a report can be
checked against the planted faults, an independent source.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from kozomol.simulator.faults import FaultRates, PlantedFault
from kozomol.simulator.run import SimulationSpec, collect_faults, judged_at, school_events
from services.checker.domain.facts import SchoolFacts
from services.checker.domain.reports import (
    FindingRef,
    LessonStat,
    Plan,
    ReportError,
    SchoolBook,
    Scope,
    fill_rate_report,
    final_mark_counts,
    lesson_statistics,
    program_report,
    quarter_analysis,
    teacher_summary,
)
from services.checker.domain.rules import Calendar, Parameters, Term, evaluate

SPEC = SimulationSpec(seed=5, parallels=1, grades=(4, 8), terms=(1, 2),
                      rates=FaultRates.default(8.0))


@cache
def simulated() -> tuple[tuple[dict[str, Any], ...], tuple[PlantedFault, ...]]:
    faults: list[PlantedFault] = []
    events = tuple(school_events(SPEC, collect_faults(faults)))
    return events, tuple(faults)


@cache
def facts() -> SchoolFacts:
    school = SchoolFacts("sch0001")
    for event in simulated()[0]:
        school.apply(event["id"], event["type"], datetime.fromisoformat(event["occurred_at"]),
                     event["data"])
    return school


@cache
def findings() -> tuple[FindingRef, ...]:
    return tuple(FindingRef(f.rule, "open", f.date, f.class_id, f.subject_id, f.teacher_id)
                 for f in evaluate(facts(), judged_at(SPEC)))


def book() -> SchoolBook:
    school = facts()
    return SchoolBook(
        terms=Calendar(school, Parameters()).terms,
        subjects={p.data["subject_id"]: p.data["subject_name"] for p in school.plans.values()
                  if p.data},
        teachers={t: v.data["full_name"] for t, v in school.teachers.items() if v.data},
        homeroom={c: v.data["homeroom_teacher_id"] for c, v in school.classes.items() if v.data},
        today=judged_at(SPEC).date())


def plans() -> list[Plan]:
    return [Plan(c, s, g, t, p.data["teacher_id"],
                 tuple(date.fromisoformat(x["planned_date"]) for x in p.data["lessons"]))
            for (c, s, g, t), p in facts().plans.items() if p.data]


def quarter(number: int) -> Term:
    return next(t for t in book().terms if t.kind == "quarter" and t.number == number)


def stats() -> list[LessonStat]:
    return lesson_statistics(facts())


def test_teacher_summary_counts_are_the_planted_faults_per_teacher_and_rule() -> None:
    _, planted = simulated()
    q1, q2 = quarter(1), quarter(2)
    report = teacher_summary(findings(), book(), q2)
    expected_now: Counter[tuple[str, str]] = Counter()
    expected_before: Counter[tuple[str, str]] = Counter()
    for fault in planted:
        day = date.fromisoformat(fault.date)
        if fault.teacher_id and q2.start <= day <= q2.end:
            expected_now[(fault.teacher_id, fault.rule)] += 1
        elif fault.teacher_id and q1.start <= day <= q1.end:
            expected_before[(fault.teacher_id, fault.rule)] += 1
    rows = report.tables[0].rows
    assert {(r["teacher_id"], r["rule"]): r["this_term"] for r in rows if r["this_term"]} \
        == dict(expected_now)
    assert {(r["teacher_id"], r["rule"]): r["previous_term"] for r in rows
            if r["previous_term"]} == dict(expected_before)
    assert all(r["change"] == r["this_term"] - r["previous_term"] for r in rows)
    assert all(r["teacher"] and r["teacher"] != r["teacher_id"] for r in rows)  # names


def test_quarter_analysis_of_a_class_reconciles() -> None:
    _, planted = simulated()
    q1 = quarter(1)
    class_id = sorted(book().homeroom)[-1]
    school = facts()
    report = quarter_analysis(class_id, q1, lessons=stats(), findings=findings(), plans=plans(),
                              final_counts=final_mark_counts(school), book=book())
    tables = {table.name: table for table in report.tables}
    assert list(tables) == ["fill_rate", "findings", "final_marks", "program"]
    # lessons held, by subject: straight from the events
    held: Counter[str] = Counter()
    deleted = {e["data"]["lesson_id"] for e in simulated()[0] if e["type"] == "lesson.deleted"}
    for event in simulated()[0]:
        data = event["data"]
        if event["type"] == "lesson.recorded" and data["class_id"] == class_id \
                and data["lesson_id"] not in deleted \
                and q1.start <= date.fromisoformat(data["date"]) <= q1.end:
            held[data["lesson_id"]] = 1
    assert sum(r["lessons_held"] for r in tables["fill_rate"].rows) == len(held)
    # findings by teacher and rule: the planted faults of the class in the quarter
    expected: Counter[tuple[str | None, str]] = Counter(
        (f.teacher_id, f.rule) for f in planted
        if f.class_id == class_id and q1.start <= date.fromisoformat(f.date) <= q1.end)
    assert {(r["teacher_id"], r["rule"]): r["total"] for r in tables["findings"].rows} \
        == dict(expected)
    # term marks set: recounted from mark events (latest state per mark, deletions applied)
    finals: dict[str, dict[str, Any]] = {}
    for event in simulated()[0]:
        data = event["data"]
        if event["type"] == "mark.recorded" and data["kind"] == "quarter":
            finals[data["mark_id"]] = data
        elif event["type"] == "mark.deleted":
            finals.pop(data["mark_id"], None)
    set_by_subject = Counter(d["subject_id"] for d in finals.values()
                             if d["class_id"] == class_id and d["term_id"] == q1.term_id)
    assert {r["subject_id"]: r["marks_set"] for r in tables["final_marks"].rows
            if r["marks_set"]} == dict(set_by_subject)
    late = Counter(f.subject_id for f in planted if f.rule == "final_mark.late"
                   and f.class_id == class_id and f.term_id == q1.term_id)
    assert {r["subject_id"]: r["late_or_missing"] for r in tables["final_marks"].rows
            if r["late_or_missing"]} == dict(late)
    assert ("Класс", class_id) in report.summary


def test_a_teacher_sees_only_their_lessons_and_a_class_teacher_also_their_class() -> None:
    the_book = book()
    class_id, homeroom = sorted(the_book.homeroom.items())[-1]
    assert homeroom is not None
    others = {s.teacher_id for s in stats() if s.class_id == class_id} - {homeroom}
    assert others, "the class should have subject teachers besides its homeroom teacher"
    period = {"date_from": quarter(1).start, "date_to": quarter(1).end}
    as_teacher = fill_rate_report(stats(), findings(), the_book,
                                  scope=Scope(teacher_id=homeroom), **period)
    assert {r["teacher_id"] for r in as_teacher.tables[0].rows} == {homeroom}
    as_class_teacher = fill_rate_report(
        stats(), findings(), the_book, scope=Scope(teacher_id=homeroom,
                                                   classes=frozenset({class_id})), **period)
    seen = {(r["class_id"], r["teacher_id"]) for r in as_class_teacher.tables[0].rows}
    assert {(class_id, t) for t in others} <= seen
    assert {t for c, t in seen if c != class_id} == {homeroom}
    summary = teacher_summary(findings(), the_book, quarter(2), scope=Scope(teacher_id=homeroom))
    assert {r["teacher_id"] for r in summary.tables[0].rows} <= {homeroom}


def test_program_report_counts_the_plans_and_the_lessons() -> None:
    on = quarter(2).start
    report = program_report(plans(), stats(), book(), on=on)
    rows = report.tables[0].rows
    q1 = quarter(1)
    planned = sum(sum(1 for d in p.planned_dates if d <= on) for p in plans()
                  if p.term_id in (q1.term_id, quarter(2).term_id))
    assert sum(r["planned_to_date"] for r in rows) == planned
    held = sum(1 for s in stats() if s.date <= on)
    assert sum(r["held_to_date"] for r in rows) == held
    assert all(r["behind"] == r["planned_to_date"] - r["held_to_date"] for r in rows)


def test_fill_rate_lists_the_lessons_behind_each_row_on_request() -> None:
    q1 = quarter(1)
    report = fill_rate_report(stats(), findings(), book(), date_from=q1.start, date_to=q1.end,
                              with_lessons=True)
    table = report.tables[0]
    assert table.columns[-1].key == "lesson_ids"
    ids = [lesson for row in table.rows for lesson in row["lesson_ids"]]
    assert len(ids) == len(set(ids)) == sum(row["lessons_held"] for row in table.rows)
    assert all(c.definition for c in table.columns if c.key not in (
        "class_id", "subject", "teacher"))
    with pytest.raises(ReportError):
        fill_rate_report(stats(), findings(), book(), date_from=q1.end, date_to=q1.start)


def test_a_report_is_plain_data_for_the_event() -> None:
    report = program_report(plans(), stats(), book(), on=quarter(1).end).as_dict()
    assert set(report) == {"kind", "title", "parameters", "summary", "tables"}
    table = report["tables"][0]
    assert {c["key"] for c in table["columns"]} <= set(table["rows"][0])


def test_scheduled_reports_are_the_last_fortnight_and_the_last_closed_quarter() -> None:
    from services.checker.reporting import due_reports

    the_book = book()
    q1, q2 = quarter(1), quarter(2)
    the_book.today = q1.start + timedelta(days=13)  # the first fortnight has not ended
    assert due_reports(the_book, final_mark_days=2) == []
    the_book.today = q1.start + timedelta(days=14)
    assert due_reports(the_book, final_mark_days=2) == [(
        "fill_rate", f"{q1.start}/{q1.start + timedelta(days=13)}",
        {"date_from": str(q1.start), "date_to": str(q1.start + timedelta(days=13))})]
    the_book.today = q1.end + timedelta(days=3)  # final marks due two days after the end
    due = due_reports(the_book, final_mark_days=2)
    analyses = [item for item in due if item[0] == "quarter_analysis"]
    assert sorted(item[2]["class_id"] for item in analyses) == sorted(the_book.homeroom)
    assert {item[2]["term_id"] for item in analyses} == {q1.term_id}
    fortnight = next(item for item in due if item[0] == "fill_rate")[2]
    assert date.fromisoformat(fortnight["date_to"]) < the_book.today
    assert (date.fromisoformat(fortnight["date_to"])
            - date.fromisoformat(fortnight["date_from"])).days == 13
    the_book.today = q2.end + timedelta(days=30)
    assert {item[2]["term_id"] for item in due_reports(the_book, 2)
            if item[0] == "quarter_analysis"} == {q2.term_id}
