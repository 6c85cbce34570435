"""The checker's store and sweeps on real tables (SQLite): what a school really sends.

- a nationwide outage (``school_id: "*"``, as the contract allows) gives every
  school its grace and is no school of its own;
- a finding follows corrections of its evidence, and its history says so;
- a school whose history is still arriving is not judged until it settled;
- a scheduled report whose figures change is made again, naming the one it replaces.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine, select

from services.checker.adapters import facts_store
from services.checker.adapters.tables import finding_history, findings, outbox
from services.checker.handlers import Settling, fold_events, sweep
from services.checker.reporting import make_scheduled
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.settings import Settings

ZONE = ZoneInfo("Asia/Bishkek")
TERM = {"id": "q1", "kind": "quarter", "number": 1, "start": "2026-09-01", "end": "2026-10-31"}


def at(day: str, clock: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZONE)


@pytest.fixture
def engine(embedded_settings: Settings, migrated: Callable[[Settings], Settings]
           ) -> Iterator[Engine]:
    made = make_engine(migrated(embedded_settings).database_url_for("checker"))
    yield made
    made.dispose()


class School:
    """Events of one school as Kundoluk sends them, folded through the real handler."""

    ids = itertools.count(1)

    def __init__(self, engine: Engine, school_id: str = "s1") -> None:
        self.engine, self.school_id = engine, school_id

    def send(self, event_type: str, when: datetime, data: dict[str, Any], *,
             school_id: str | None = None, settle_lag: float | None = None) -> None:
        event = Event(f"e{next(self.ids)}", event_type, school_id or self.school_id, when, data)
        with self.engine.begin() as connection:
            fold_events(connection, [event], settle_lag=settle_lag)

    def basics(self, **kwargs: Any) -> None:
        self.send("school.calendar", at("2026-08-25"), {
            "academic_year": "2026-2027", "timezone": "Asia/Bishkek",
            "language_of_instruction": "ru", "weekend": ["sun"], "terms": [TERM],
            "holidays": []}, **kwargs)
        self.send("class.roster", at("2026-08-25"), {
            "class_id": "5a", "academic_year": "2026-2027", "grade": 5,
            "homeroom_teacher_id": "t1", "students": [
                {"student_id": "st1", "full_name": "Ученик 1", "subgroups": {}}]}, **kwargs)

    def lesson(self, day: str, entered: datetime, topic: str = "Натуральные числа",
               **kwargs: Any) -> None:
        lesson_id = f"L{day}"
        self.send("lesson.recorded", entered, {
            "lesson_id": lesson_id, "class_id": "5a", "subgroup": None, "subject_id": "math",
            "date": day, "period": 1, "teacher_id": "t1", "scheduled_teacher_id": "t1",
            "is_substitution": False, "topic": topic, "homework": "№ 1"}, **kwargs)
        self.send("attendance.recorded", at(day, "08:10"),
                  {"lesson_id": lesson_id, "absent": [], "late": []}, **kwargs)

    def mark(self, mark_id: str, day: str, value: str, entered: datetime,
             work_type: str = "oral") -> None:
        self.send("mark.recorded", entered, {
            "mark_id": mark_id, "student_id": "st1", "class_id": "5a", "subject_id": "math",
            "teacher_id": "t1", "lesson_id": None, "date": day, "value": value,
            "work_type": work_type, "kind": "current", "term_id": None})


def stored(engine: Engine, rule: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(findings).where(findings.c.rule == rule)))


def announced(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        bodies = connection.execute(select(outbox.c.body).where(
            outbox.c.routing_key == event_type)).scalars()
        return [orjson.loads(body) for body in bodies]


def test_a_nationwide_outage_gives_every_school_the_grace(engine: Engine) -> None:
    """Clause 4.4: after technical problems the journal is filled within three days of the
    service working again - in every school, for an outage of the whole platform."""
    first, second = School(engine, "s1"), School(engine, "s2")
    for school in (first, second):
        school.basics()
        # the topic of a lesson of 10.09 entered on 12.09, during the outage's grace
        school.lesson("2026-09-10", at("2026-09-12", "10:00"))
    first.send("platform.outage", at("2026-09-10", "21:00"), {
        "started_at": at("2026-09-10", "13:00").isoformat(),
        "ended_at": at("2026-09-10", "21:00").isoformat()}, school_id="*")
    with engine.connect() as connection:
        assert facts_store.schools(connection, dirty_only=False) == ["s1", "s2"]
        assert set(facts_store.schools(connection, dirty_only=True)) == {"s1", "s2"}
    sweep(engine, lambda: at("2026-09-20"))
    assert stored(engine, "lesson.topic.late") == []
    # a school that comes later gets the grace too
    third = School(engine, "s3")
    third.basics()
    third.lesson("2026-09-10", at("2026-09-12", "10:00"))
    sweep(engine, lambda: at("2026-09-20"))
    assert stored(engine, "lesson.topic.late") == []
    # without the outage the same entry is late
    fourth = School(engine, "s4")
    fourth.basics()
    fourth.lesson("2026-09-11", at("2026-09-16", "10:00"))
    sweep(engine, lambda: at("2026-09-20"))
    assert [row.school_id for row in stored(engine, "lesson.topic.late")] == ["s4"]


def test_a_finding_follows_a_corrected_mark_and_its_history_says_so(engine: Engine) -> None:
    school = School(engine)
    school.basics()
    for day in ("2026-09-14", "2026-09-15", "2026-09-16", "2026-09-17", "2026-09-21"):
        school.lesson(day, at(day, "15:00"))
    school.mark("m1", "2026-09-14", "2", at("2026-09-14", "15:00"))
    sweep(engine, lambda: at("2026-10-01"))
    [before] = stored(engine, "mark.failing.no_followup")
    assert before.date.isoformat() == "2026-09-14" and "14.09.2026" in before.message
    # the teacher moves the mark to the lesson of 16.09: still no follow-up
    school.mark("m1", "2026-09-16", "2", at("2026-09-16", "17:00"))
    sweep(engine, lambda: at("2026-10-01"))
    [after] = stored(engine, "mark.failing.no_followup")
    assert after.id == before.id and after.status == "open"
    assert after.date.isoformat() == "2026-09-16" and "16.09.2026" in after.message
    assert after.evidence["followup_until"] == "2026-09-19"
    with engine.connect() as connection:
        steps = list(connection.execute(select(finding_history).where(
            finding_history.c.finding_id == after.id).order_by(finding_history.c.seq)))
    assert [step.status for step in steps] == ["open", "open"]
    assert steps[1].comment.startswith("the evidence changed: ")
    assert {"date", "message", "evidence"} <= set(steps[1].comment.split(": ")[1].split(", "))
    [updated] = [e["data"] for e in announced(engine, "finding.updated")
                 if e["data"]["id"] == after.id]
    assert updated["date"] == "2026-09-16" and updated["status"] == "open"
    # a sweep with nothing new changes nothing
    count = len(announced(engine, "finding.updated"))
    sweep(engine, lambda: at("2026-10-01"))
    assert len(announced(engine, "finding.updated")) == count
    # a test's mark entered ten days late, whose work type is then corrected to oral:
    # still late, and the severity follows (clause 3.8 for written work is a "must")
    school.mark("m2", "2026-09-15", "4", at("2026-09-25", "15:00"), work_type="test")
    sweep(engine, lambda: at("2026-10-01"))
    [written_late] = stored(engine, "mark.late")
    assert written_late.severity == "violation"
    school.mark("m2", "2026-09-15", "4", at("2026-09-26", "15:00"), work_type="oral")
    sweep(engine, lambda: at("2026-10-01"))
    [oral_late] = stored(engine, "mark.late")
    assert oral_late.id == written_late.id and oral_late.status == "open"
    assert oral_late.severity == "warning"


def test_a_school_catching_up_is_judged_once_its_history_is_in(engine: Engine) -> None:
    """A school connected mid-year sends its past: no finding may come from half of it."""
    wall = [datetime.now(UTC)]  # the checker records arrivals on the real clock
    settling = Settling(120, wall_clock=lambda: wall[0])
    school = School(engine)
    school.basics(settle_lag=600)
    # the first half of the history: a lesson without its topic yet (it comes later)
    school.lesson("2026-09-14", at("2026-09-14", "15:00"), topic="", settle_lag=600)
    swept = sweep(engine, lambda: at("2026-10-01"), settling=settling)
    assert (swept.held, swept.schools) == (1, 0)
    assert stored(engine, "lesson.topic.late") == []
    # the rest of the history arrives: the topic was entered on the day after all
    school.send("lesson.recorded", at("2026-09-14", "16:00"), {
        "lesson_id": "L2026-09-14", "class_id": "5a", "subgroup": None, "subject_id": "math",
        "date": "2026-09-14", "period": 1, "teacher_id": "t1", "scheduled_teacher_id": "t1",
        "is_substitution": False, "topic": "Натуральные числа", "homework": "№ 1"},
        settle_lag=600)
    wall[0] += timedelta(seconds=119)
    assert sweep(engine, lambda: at("2026-10-01"), settling=settling).held == 1
    wall[0] += timedelta(seconds=2)  # the settling window passed since the last past event
    swept = sweep(engine, lambda: at("2026-10-01"), settling=settling)
    assert (swept.held, swept.schools) == (0, 1)
    assert stored(engine, "lesson.topic.late") == []  # the topic was on time after all
    with engine.connect() as connection:
        assert "withdrawn" not in set(connection.execute(
            select(finding_history.c.status)).scalars())  # nothing opened, then withdrawn
    # while the checker's queue still holds deliveries, it waits ten windows
    backlogged = Settling(120, backlog=lambda: 5, wall_clock=lambda: wall[0])
    assert sweep(engine, lambda: at("2026-10-01"), settling=backlogged).held == 1


def test_live_entries_never_hold_a_school_back(engine: Engine) -> None:
    settling = Settling(120)
    school = School(engine)
    now = datetime.now(UTC)
    school.basics(settle_lag=600)  # (the calendar itself was entered long ago)
    with engine.connect() as connection:
        connection.execute(facts_store.catching_up.delete())
        connection.commit()
    school.send("teacher.profile", now - timedelta(seconds=30),
                {"teacher_id": "t1", "full_name": "Учитель"}, settle_lag=600)
    assert sweep(engine, lambda: now, settling=settling).held == 0


def test_a_scheduled_report_whose_figures_change_is_made_again(engine: Engine) -> None:
    school = School(engine)
    school.basics()
    for day in ("2026-09-14", "2026-09-15"):
        school.lesson(day, at(day, "15:00"))
    clock = [at("2026-09-29", "09:00")]  # the first two weeks of the quarter are over
    sweep(engine, lambda: clock[0])
    assert make_scheduled(engine, lambda: clock[0]) >= 1
    [first] = [e["data"] for e in announced(engine, "report.ready")
               if e["data"]["kind"] == "fill_rate"]
    assert "replaces" not in first
    # nothing changed: checked again later, not made again
    clock[0] += timedelta(minutes=11)
    sweep(engine, lambda: clock[0])
    make_scheduled(engine, lambda: clock[0])
    assert len([e for e in announced(engine, "report.ready")
                if e["data"]["kind"] == "fill_rate"]) == 1
    # a late entry of that fortnight changes the figures: a new version, naming the first
    school.lesson("2026-09-16", at("2026-09-30", "10:00"))
    clock[0] += timedelta(minutes=11)
    sweep(engine, lambda: clock[0])
    make_scheduled(engine, lambda: clock[0])
    fill_rates = [e["data"] for e in announced(engine, "report.ready")
                  if e["data"]["kind"] == "fill_rate"]
    assert len(fill_rates) == 2
    assert fill_rates[1]["replaces"] == first["report_id"]
    assert fill_rates[1]["version"] == 2
    assert fill_rates[1]["summary"] != first["summary"]


def test_journal_visits_are_kept_per_student_across_batches(engine: Engine) -> None:
    """Clause 4.3: the class teacher sees who has not opened the journal; the daily
    counts of a class come as one event, stored per student and judged when the school
    switched the rule on."""
    from services.checker.adapters import parameters_store

    school = School(engine)
    school.basics()
    for day in range(1, 16):  # one report per day, each its own batch
        school.send("journal.visits", at(f"2026-09-{day:02d}", "23:59"), {
            "class_id": "5a", "date": f"2026-09-{day:02d}",
            "visits": [{"student_id": "st1", "student_visits": int(day == 1),
                        "parent_visits": 1}]})
    with engine.connect() as connection:
        visits = facts_store.load_school(connection, "s1").visits["st1"]
    assert (visits.first_reported, visits.last_reported, visits.last_student_visit,
            visits.last_parent_visit) == tuple(
        datetime.fromisoformat(d).date() for d in ("2026-09-01", "2026-09-15",
                                                   "2026-09-01", "2026-09-15"))
    sweep(engine, lambda: at("2026-09-16"))
    assert stored(engine, "journal.not_visited") == []  # off unless the school says so
    with engine.begin() as connection:
        parameters_store.save(connection, "s1", {"journal_visits_rule": 1}, "deputy",
                              at("2026-09-16"))
    sweep(engine, lambda: at("2026-09-16", "13:00"))
    [finding] = stored(engine, "journal.not_visited")
    assert finding.student_id == "st1" and finding.teacher_id == "t1"
    assert finding.message == "Электронный журнал не посещали (ученик) с 02.09.2026."
    # the next day's report (still no visit) leaves the finding as it is
    school.send("journal.visits", at("2026-09-16", "23:59"), {
        "class_id": "5a", "date": "2026-09-16",
        "visits": [{"student_id": "st1", "student_visits": 0, "parent_visits": 1}]})
    sweep(engine, lambda: at("2026-09-17"))
    assert announced(engine, "finding.updated") == []
    [same] = stored(engine, "journal.not_visited")
    assert (same.id, same.message) == (finding.id, finding.message)


def test_the_homework_rules_reach_the_remarks_sheet(engine: Engine) -> None:
    """Clauses 1.3 and 3.7 on a class journal's remarks sheet: the sweep stores the
    findings with their Russian remark, and the sheet lists them with rule and clause."""
    from services.gateway.domain.remarks import remarks_sheet
    from shared.events.rules import CATALOG

    school = School(engine)
    school.basics()
    # 07.09: 125 minutes of homework in grade 5 (norm 120), entered at 21:30 before a
    # lesson the next day
    school.send("lesson.recorded", at("2026-09-07", "21:30"), {
        "lesson_id": "L1", "class_id": "5a", "subgroup": None, "subject_id": "math",
        "date": "2026-09-07", "period": 1, "teacher_id": "t1", "scheduled_teacher_id": "t1",
        "is_substitution": False, "topic": "Натуральные числа", "homework": "№ 1",
        "homework_minutes": 125})
    school.lesson("2026-09-08", at("2026-09-08", "15:00"))
    sweep(engine, lambda: at("2026-09-10"))
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(findings).where(
            findings.c.rule.in_(("homework.load.excessive", "homework.not_ahead"))))]
    sheet = remarks_sheet([{**row, "clause": CATALOG[row["rule"]].clause,
                            "detected_at": row["detected_at"].isoformat(),
                            "date": row["date"].isoformat(), "history": []} for row in rows])
    assert sorted((r.rule, r.clause, r.remark) for r in sheet) == [
        ("homework.load.excessive", "1.3",
         "Общий объём домашних заданий класса за 07.09.2026 (125 мин) превышает норму для "
         "возраста обучающихся (120 мин)."),
        ("homework.not_ahead", "3.7",
         "Домашнее задание к уроку 07.09.2026 размещено менее чем за 4 ч до следующего "
         "урока: обучающиеся не могут заранее спланировать время.")]
