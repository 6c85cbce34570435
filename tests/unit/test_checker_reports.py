"""Monitoring reports reconcile with the raw events, recomputed independently."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, judged_at, school_events
from services.checker.domain.facts import SchoolFacts
from services.checker.domain.reports import (
    FILL_RATE_DEFINITIONS,
    FindingRef,
    Plan,
    fill_rate,
    lesson_statistics,
    program_completion,
)
from services.checker.domain.rules import Calendar, Parameters, evaluate

SPEC = SimulationSpec(seed=12, parallels=1, grades=(3, 7), rates=FaultRates.default(10.0))
PERIOD = (date(2026, 9, 14), date(2026, 9, 27))
ZONE = ZoneInfo("Asia/Bishkek")


@cache
def events() -> tuple[dict[str, Any], ...]:
    return tuple(school_events(SPEC))


def facts() -> SchoolFacts:
    school = SchoolFacts("sch0001")
    for event in events():
        school.apply(event["id"], event["type"], datetime.fromisoformat(event["occurred_at"]),
                     event["data"])
    return school


def recount() -> dict[tuple[str, str, str], dict[str, int]]:
    """The same figures straight from the events, in arrival order, by hand."""
    lessons: dict[str, dict[str, Any]] = {}
    firsts: dict[tuple[str, str], datetime] = {}
    deleted: set[str] = set()
    outages = []
    marks: dict[str, dict[str, Any]] = {}
    for event in events():
        at, data = datetime.fromisoformat(event["occurred_at"]), event["data"]
        kind = event["type"]
        if kind == "platform.outage":
            outages.append((datetime.fromisoformat(data["started_at"]),
                            datetime.fromisoformat(data["ended_at"])))
        elif kind == "lesson.recorded":
            lessons[data["lesson_id"]] = data
            for part in ("topic", "homework"):
                if data[part]:
                    firsts.setdefault((data["lesson_id"], part), at)
        elif kind == "lesson.deleted":
            deleted.add(data["lesson_id"])
        elif kind == "attendance.recorded":
            firsts.setdefault((data["lesson_id"], "sheet"), at)
        elif kind == "mark.recorded" and data["kind"] == "current":
            marks.setdefault(data["mark_id"], data)

    def deadline(day: date) -> datetime:
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZONE)
        for started, ended in outages:
            if started <= end and ended >= datetime.combine(day, time(0), tzinfo=ZONE):
                end = max(end, ended + timedelta(days=3))
        return end

    table: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    in_period = {}
    for lesson_id, data in lessons.items():
        day = date.fromisoformat(data["date"])
        if lesson_id in deleted or not PERIOD[0] <= day <= PERIOD[1]:
            continue
        key = (data["class_id"], data["subject_id"], data["teacher_id"])
        in_period[lesson_id] = key
        row = table[key]
        row["lessons"] += 1
        for part in ("topic", "homework", "sheet"):
            first = firsts.get((lesson_id, part))
            row[part] += int(first is not None and first <= deadline(day))
    for mark in marks.values():
        if mark["lesson_id"] in in_period:
            table[in_period[mark["lesson_id"]]]["marks"] += 1
    return table


def test_fill_rate_figures_reconcile_with_the_raw_events() -> None:
    school = facts()
    found = [FindingRef(f.rule, "open", f.date, f.class_id, f.subject_id, f.teacher_id)
             for f in evaluate(school, judged_at(SPEC))]
    rows = fill_rate(lesson_statistics(school), found, date_from=PERIOD[0], date_to=PERIOD[1])
    expected = recount()
    assert {(r.class_id, r.subject_id, r.teacher_id) for r in rows} == set(expected)
    for row in rows:
        want = expected[(row.class_id, row.subject_id, row.teacher_id)]
        assert (row.lessons_held, row.topics_on_time, row.homework_on_time,
                row.attendance_on_time, row.marks) == (
            want["lessons"], want["topic"], want["homework"], want["sheet"], want["marks"])
        assert len(row.lesson_ids) == row.lessons_held  # the lessons behind the figures
    assert any(min(r.topics_on_time, r.homework_on_time, r.attendance_on_time)
               < r.lessons_held for r in rows), "the planted faults should show"
    assert set(rows[0].figures()) >= set(FILL_RATE_DEFINITIONS) - {"open_findings"}


def test_program_completion_matches_the_plans() -> None:
    school = facts()
    plans = [Plan(c, s, g, t, p.data["teacher_id"],
                  tuple(date.fromisoformat(x["planned_date"]) for x in p.data["lessons"]))
             for (c, s, g, t), p in school.plans.items() if p.data]
    terms = Calendar(school, Parameters()).terms
    rows = program_completion(plans, lesson_statistics(school), terms, on=date(2026, 10, 31))
    assert rows
    assert all(row.behind >= 0 for row in rows)  # nobody is ahead of the КТП
    planned_total = sum(len(p.data["lessons"]) for p in school.plans.values() if p.data)
    held = sum(1 for lesson in school.lessons.values() if lesson.live)
    assert sum(row.planned_to_date for row in rows) == planned_total
    assert sum(row.held_to_date for row in rows) == held
