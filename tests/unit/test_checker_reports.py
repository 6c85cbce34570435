"""Every report kind, made the way the service makes it (facts folded, a sweep, the
statistics summed by the store; SQLite here, PostgreSQL in the integration test), checked
against the raw events recounted by hand and against what the simulator planted.

The checker is exact on simulated schools (its findings equal the planted faults,
see test_checker_scoring), so the counts of findings in a report can be checked
against the planted faults, an independent source.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from kozomol.simulator.faults import FaultRates, PlantedFault
from kozomol.simulator.run import SimulationSpec, collect_faults, judged_at, school_events
from services.checker.adapters import facts_store
from services.checker.adapters.tables import metadata
from services.checker.domain.reports import (
    FILL_RATE_DEFINITIONS,
    ReportError,
    SchoolBook,
    due_reports,
)
from services.checker.domain.rules import Term
from services.checker.handlers import sweep
from services.checker.reporting import make_report, school_book_at
from shared.events.envelope import Event

SPEC = SimulationSpec(seed=5, parallels=1, grades=(4, 8), terms=(1, 2),
                      rates=FaultRates.default(8.0))
ZONE = ZoneInfo("Asia/Bishkek")
PERIOD = (date(2026, 9, 14), date(2026, 9, 27))


@cache
def simulated() -> tuple[tuple[dict[str, Any], ...], tuple[PlantedFault, ...]]:
    faults: list[PlantedFault] = []
    events = tuple(school_events(SPEC, collect_faults(faults)))
    return events, tuple(faults)


@cache
def engine() -> Engine:
    """The checker's tables with the school folded in and swept at the judging moment."""
    made = create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(made)
    with made.begin() as connection:
        facts_store.ingest(connection, [
            Event(e["id"], e["type"], e["school_id"], datetime.fromisoformat(e["occurred_at"]),
                  e["data"]) for e in simulated()[0]])
    sweep(made, lambda: judged_at(SPEC))
    return made


def report(kind: str, scope: dict[str, Any] | None = None, **parameters: Any) -> dict[str, Any]:
    with engine().connect() as connection:
        return make_report(connection, "sch0001", kind, parameters, scope=scope,
                           now=judged_at(SPEC)).as_dict()


def book() -> SchoolBook:
    with engine().connect() as connection:
        return school_book_at(connection, "sch0001", judged_at(SPEC), with_plans=True)


def quarter(number: int) -> Term:
    return next(t for t in book().terms if t.kind == "quarter" and t.number == number)


def table(made: dict[str, Any], name: str | None = None) -> list[dict[str, Any]]:
    tables = made["tables"]
    found = tables[0] if name is None else next(t for t in tables if t["name"] == name)
    return list(found["rows"])


def live_lessons() -> dict[str, dict[str, Any]]:
    deleted = {e["data"]["lesson_id"] for e in simulated()[0] if e["type"] == "lesson.deleted"}
    return {e["data"]["lesson_id"]: e["data"] for e in simulated()[0]
            if e["type"] == "lesson.recorded" and e["data"]["lesson_id"] not in deleted}


def recount() -> dict[tuple[str, str, str], dict[str, int]]:
    """The same figures straight from the events, in arrival order, by hand."""
    lessons: dict[str, dict[str, Any]] = {}
    firsts: dict[tuple[str, str], datetime] = {}
    deleted: set[str] = set()
    outages = []
    marks: dict[str, dict[str, Any]] = {}
    for event in simulated()[0]:
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
    made = report("fill_rate", date_from=PERIOD[0].isoformat(), date_to=PERIOD[1].isoformat(),
                  lessons=True)
    rows = table(made)
    expected = recount()
    assert {(r["class_id"], r["subject_id"], r["teacher_id"]) for r in rows} == set(expected)
    for row in rows:
        want = expected[(row["class_id"], row["subject_id"], row["teacher_id"])]
        held = want["lessons"]
        assert row["lessons_held"] == held == len(row["lesson_ids"])  # the lessons behind it
        assert (row["topics_on_time"], row["homework_on_time"], row["attendance_on_time"],
                row["marks_per_lesson"]) == (
            round(want["topic"] / held, 4), round(want["homework"] / held, 4),
            round(want["sheet"] / held, 4), round(want["marks"] / held, 4))
    assert any(min(r["topics_on_time"], r["homework_on_time"], r["attendance_on_time"]) < 1
               for r in rows), "the planted faults should show"
    columns = {c["key"]: c for c in made["tables"][0]["columns"]}
    assert all(columns[key]["definition"] for key in FILL_RATE_DEFINITIONS)
    with pytest.raises(ReportError):
        report("fill_rate", date_from=PERIOD[1].isoformat(), date_to=PERIOD[0].isoformat())


def test_open_findings_per_row_are_the_planted_faults_of_those_lessons() -> None:
    _, planted = simulated()
    q1 = quarter(1)
    rows = table(report("fill_rate", date_from=q1.start.isoformat(), date_to=q1.end.isoformat()))
    keys = {(r["class_id"], r["subject_id"], r["teacher_id"]) for r in rows}
    expected: dict[tuple[str | None, str | None, str | None], Counter[str]] = defaultdict(Counter)
    for fault in planted:
        key = (fault.class_id, fault.subject_id, fault.teacher_id)
        if key in keys and q1.start <= date.fromisoformat(fault.date) <= q1.end:
            expected[key][fault.rule] += 1
    assert {(r["class_id"], r["subject_id"], r["teacher_id"]): r["open_findings"]
            for r in rows if r["open_findings"]} == {k: dict(v) for k, v in expected.items()}


def test_teacher_summary_counts_are_the_planted_faults_per_teacher_and_rule() -> None:
    _, everything = simulated()
    # journal.not_visited is a rule only where the school switches it on (not here)
    planted = [f for f in everything if f.rule != "journal.not_visited"]
    q1, q2 = quarter(1), quarter(2)
    rows = table(report("teacher_summary", term_id=q2.term_id))
    expected_now: Counter[tuple[str, str]] = Counter()
    expected_before: Counter[tuple[str, str]] = Counter()
    for fault in planted:
        day = date.fromisoformat(fault.date)
        if fault.teacher_id and q2.start <= day <= q2.end:
            expected_now[(fault.teacher_id, fault.rule)] += 1
        elif fault.teacher_id and q1.start <= day <= q1.end:
            expected_before[(fault.teacher_id, fault.rule)] += 1
    assert {(r["teacher_id"], r["rule"]): r["this_term"] for r in rows if r["this_term"]} \
        == dict(expected_now)
    assert {(r["teacher_id"], r["rule"]): r["previous_term"] for r in rows
            if r["previous_term"]} == dict(expected_before)
    assert all(r["change"] == r["this_term"] - r["previous_term"] for r in rows)
    assert all(r["teacher"] and r["teacher"] != r["teacher_id"] for r in rows)  # names


def test_quarter_analysis_of_a_class_reconciles() -> None:
    events, planted = simulated()
    q1 = quarter(1)
    class_id = sorted(book().homeroom)[-1]
    made = report("quarter_analysis", class_id=class_id, term_id=q1.term_id)
    assert [t["name"] for t in made["tables"]] == ["fill_rate", "findings", "final_marks",
                                                    "program"]
    held = [d for d in live_lessons().values() if d["class_id"] == class_id
            and q1.start <= date.fromisoformat(d["date"]) <= q1.end]
    assert sum(r["lessons_held"] for r in table(made, "fill_rate")) == len(held)
    expected: Counter[tuple[str | None, str]] = Counter(
        (f.teacher_id, f.rule) for f in planted
        if f.class_id == class_id and q1.start <= date.fromisoformat(f.date) <= q1.end)
    assert {(r["teacher_id"], r["rule"]): r["total"] for r in table(made, "findings")} \
        == dict(expected)
    finals: dict[str, dict[str, Any]] = {}
    for event in events:
        data = event["data"]
        if event["type"] == "mark.recorded" and data["kind"] == "quarter":
            finals[data["mark_id"]] = data
        elif event["type"] == "mark.deleted":
            finals.pop(data["mark_id"], None)
    set_by_subject = Counter(d["subject_id"] for d in finals.values()
                             if d["class_id"] == class_id and d["term_id"] == q1.term_id)
    final_rows = table(made, "final_marks")
    assert {r["subject_id"]: r["marks_set"] for r in final_rows if r["marks_set"]} \
        == dict(set_by_subject)
    late = Counter(f.subject_id for f in planted if f.rule == "final_mark.late"
                   and f.class_id == class_id and f.term_id == q1.term_id)
    assert {r["subject_id"]: r["late_or_missing"] for r in final_rows
            if r["late_or_missing"]} == dict(late)
    program = table(made, "program")
    assert sum(r["held_to_date"] for r in program) == len(held)
    assert ["Класс", class_id] in made["summary"]


def test_a_teacher_sees_only_their_lessons_and_a_class_teacher_also_their_class() -> None:
    class_id, homeroom = sorted(book().homeroom.items())[-1]
    assert homeroom is not None
    period = {"date_from": quarter(1).start.isoformat(), "date_to": quarter(1).end.isoformat()}
    everyone = {(r["class_id"], r["teacher_id"]) for r in table(report("fill_rate", **period))}
    others = {t for c, t in everyone if c == class_id} - {homeroom}
    assert others, "the class should have subject teachers besides its homeroom teacher"
    as_teacher = table(report("fill_rate", {"role": "teacher", "teacher_id": homeroom},
                              **period))
    assert {r["teacher_id"] for r in as_teacher} == {homeroom}
    as_class_teacher = table(report("fill_rate", {"role": "class_teacher",
                                                  "teacher_id": homeroom}, **period))
    seen = {(r["class_id"], r["teacher_id"]) for r in as_class_teacher}
    assert {(class_id, t) for t in others} <= seen
    # outside their class, only their own lessons (if they teach elsewhere at all)
    assert {t for c, t in seen if c != class_id} == \
        {t for c, t in everyone if c != class_id} & {homeroom}
    summary = table(report("teacher_summary", {"role": "teacher", "teacher_id": homeroom},
                           term_id=quarter(2).term_id))
    assert {r["teacher_id"] for r in summary} <= {homeroom}
    program = table(report("program_completion", {"role": "teacher", "teacher_id": homeroom}))
    assert program and {r["teacher_id"] for r in program} == {homeroom}
    with pytest.raises(ReportError):
        report("fill_rate", {"role": "teacher", "teacher_id": homeroom},
               teacher_id=sorted(others)[0])


def test_program_report_counts_the_plans_and_the_lessons() -> None:
    on = quarter(2).start + timedelta(days=10)
    rows = table(report("program_completion", on=on.isoformat()))
    terms = {quarter(1).term_id: quarter(1), quarter(2).term_id: quarter(2)}
    planned = sum(sum(1 for d in p.planned_dates if date.fromisoformat(d) <= on)
                  for p in book().plans
                  if p.term_id in terms)
    assert sum(r["planned_to_date"] for r in rows) == planned
    held = sum(1 for d in live_lessons().values() if date.fromisoformat(d["date"]) <= on)
    assert sum(r["held_to_date"] for r in rows) == held
    assert all(r["behind"] == r["planned_to_date"] - r["held_to_date"] for r in rows)


def test_unknown_classes_and_kinds_are_refused_in_russian() -> None:
    with pytest.raises(ReportError, match="нет класса"):
        report("quarter_analysis", class_id="no-such")
    with pytest.raises(ReportError, match="неизвестный вид"):
        report("everything")


def test_scheduled_reports_are_the_last_fortnight_and_the_last_closed_quarter() -> None:
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


def test_the_cli_prints_a_report_as_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from click.testing import CliRunner

    from kozomol.cli import main
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade
    from shared.settings import SERVICES

    url = f"sqlite:///{tmp_path / 'checker.sqlite3'}"
    upgrade(url, "checker", SERVICES)
    made = make_engine(url)
    with made.begin() as connection:
        facts_store.ingest(connection, [
            Event(e["id"], e["type"], e["school_id"], datetime.fromisoformat(e["occurred_at"]),
                  e["data"]) for e in simulated()[0]])
    sweep(made, lambda: judged_at(SPEC))
    made.dispose()
    monkeypatch.setenv("KOZOMOL_DATABASE_URL", url)
    monkeypatch.setenv("KOZOMOL_DATA_DIR", str(tmp_path))
    at = judged_at(SPEC).isoformat()
    done = CliRunner().invoke(main, [
        "checker", "report", "fill_rate", "--school", "sch0001", "--at", at,
        "--param", f"date_from={PERIOD[0]}", "--param", f"date_to={PERIOD[1]}"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "Заполнение электронного журнала"
    assert any(line.startswith("Класс") and "Темы в срок" in line for line in lines)
    held = sum(row["lessons"] for row in recount().values())
    assert f"  Проведено уроков: {held}" in lines
    # shares as percentages with a decimal comma, counts per rule by the rule's title
    assert "{" not in done.output and "lesson.topic.late" not in done.output
    assert "," in next(line for line in lines if line.startswith("  Темы в срок"))
    refused = CliRunner().invoke(main, ["checker", "report", "quarter_analysis", "--school",
                                        "sch0001", "--at", at, "--param", "class_id=zz"])
    assert refused.exit_code != 0 and "нет класса zz" in refused.output
    # dates as school staff write them give the same report
    russian = [day.strftime("%d.%m.%Y") for day in PERIOD]
    same = CliRunner().invoke(main, [
        "checker", "report", "fill_rate", "--school", "sch0001", "--at", at,
        "--param", f"date_from={russian[0]}", "--param", f"date_to={russian[1]}"])
    assert same.exit_code == 0, same.output
    assert same.output == done.output
    # an unknown or malformed parameter is refused as the API refuses it, no traceback
    for wrong, named in (("clas_id=5a", "clas_id"), ("date_from=31.02.2026", "date_from")):
        result = CliRunner().invoke(main, ["checker", "report", "fill_rate", "--school",
                                           "sch0001", "--at", at, "--param", wrong])
        assert result.exit_code == 2 and named in result.output, result.output
        assert "Traceback" not in result.output and result.exception is not None
        assert isinstance(result.exception, SystemExit)


def test_homework_posted_ahead_shows_exactly_where_it_was_planted() -> None:
    """Clause 3.7 (a recommendation): the fill-rate figure «Д/з заранее» is below 100 %
    in the rows whose homework the simulator posted late in the evening before a lesson
    the next day, and 100 % everywhere else."""
    _, planted = simulated()
    q1 = quarter(1)
    made = report("fill_rate", date_from=q1.start.isoformat(), date_to=q1.end.isoformat())
    late_evening = {(f.class_id, f.subject_id, f.teacher_id) for f in planted
                    if f.rule == "homework.not_ahead"
                    and q1.start <= date.fromisoformat(f.date) <= q1.end}
    assert late_evening, "the simulator should plant some"
    rows = table(made)
    below = {(r["class_id"], r["subject_id"], r["teacher_id"]) for r in rows
             if r["homework_ahead"] is not None and r["homework_ahead"] < 1}
    assert below == late_evening
    assert dict(made["summary"])["Д/з размещено заранее"].endswith("%")


def test_journal_visits_list_per_class_who_has_not_visited() -> None:
    """Clause 4.3: per class, the students (and parents) who have not opened the journal
    for 14 days or more, with the class teacher who follows it up - exactly the ones
    the simulator made stop visiting."""
    _, planted = simulated()
    idle = {(f.class_id, f.student_id): f.note for f in planted
            if f.rule == "journal.not_visited"}
    assert idle, "the simulator should plant some"
    made = report("journal_visits")
    rows = [row for t in made["tables"] for row in t["rows"]]
    behind = {(r["class_id"], r["student_id"]): r["behind"] for r in rows if r["behind"]}
    words = {"student": "ученик", "parents": "родители", "both": "ученик и родители"}
    assert behind == {key: words[who] for key, who in idle.items()}
    assert all(r["class_teacher"] and r["class_teacher"] != r["class_teacher_id"]
               for r in rows)  # the class teacher's name
    assert all(r["student_days"] >= 14 for r in rows if "ученик" in r["behind"])
    # they stopped 20 days before the last report, so their last visit is 21 days or more
    # before it; a school's own threshold above the longest silence lists nobody
    longest = max(max(r["student_days"], r["parent_days"]) for r in rows if r["behind"])
    assert min(max(r["student_days"], r["parent_days"]) for r in rows if r["behind"]) >= 21
    assert not any(r["behind"] for t in report("journal_visits", days=longest + 1)["tables"]
                   for r in t["rows"])
    one_class = sorted(idle)[0][0]
    narrowed = report("journal_visits", class_id=one_class)
    assert [t["name"] for t in narrowed["tables"]] == [f"class_{one_class}"]
    with pytest.raises(ReportError):
        report("journal_visits", class_id="no-such-class")
