"""The notifier's planning pass over its own store (issue 17): a school's own send time,
once per day, parents' notices as the school decides, digests after the settling
window, summaries of scheduled reports, quiet hours; the ``kozomol notifier settings``
command."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from kozomol.cli import main
from services.notifier.adapters import facts_store, message_store
from services.notifier.adapters.channels import Channels
from services.notifier.adapters.tables import messages
from services.notifier.domain import planning
from services.notifier.handlers import Notifier, fold_events
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES, Settings
from tests.integration import test_notifier_school_day as school_day

DAY = "2026-10-14"  # a Wednesday of the first quarter; Bishkek is UTC+6


def at(local: str) -> datetime:
    return datetime.fromisoformat(f"{DAY}T{local}:00+06:00")


def events() -> list[Event]:
    base = at("08:00")
    data: list[tuple[str, dict[str, Any]]] = [
        ("school.calendar", {"academic_year": "2026-2027", "timezone": "Asia/Bishkek",
                             "terms": [{"id": "q1", "kind": "quarter", "number": 1,
                                        "start": "2026-09-01", "end": "2026-10-31"}]}),
        ("teacher.profile", {"teacher_id": "t1", "full_name": "Иванова Анна Петровна",
                             "email": "t1@shg48.edu.kg"}),
        ("teacher.profile", {"teacher_id": "d1", "full_name": "Орлова Вера Ивановна",
                             "email": "d1@shg48.edu.kg", "roles": ["deputy_director"]}),
        ("class.roster", {"class_id": "5a", "academic_year": "2026-2027", "grade": 5,
                          "homeroom_teacher_id": "t1",
                          "students": [{"student_id": "st1", "full_name": "Алиев Тимур"}]}),
        ("student.profile", {"student_id": "st1", "full_name": "Алиев Тимур Русланович",
                             "parents": [{"full_name": "Алиева Гульнара Сергеевна",
                                          "email": "p1@mail.kg", "notifications": True}]}),
        ("subject.plan", {"class_id": "5a", "subject_id": "math", "subject_name": "Математика",
                          "teacher_id": "t1", "term_id": "q1", "lessons": []}),
        ("lesson.recorded", {"lesson_id": "l1", "class_id": "5a", "subject_id": "math",
                             "date": DAY, "period": 2, "teacher_id": "t1", "topic": "",
                             "homework": "№ 5"}),
        ("attendance.recorded", {"lesson_id": "l1", "absent": [{"student_id": "st1"}]}),
    ]
    return [Event(f"e{n}", kind, "shg48", base + timedelta(minutes=n), body)
            for n, (kind, body) in enumerate(data)]


def notifier_for(settings: Settings, clock: list[datetime]) -> Notifier:
    settings = replace(settings, notifier_smtp_host="127.0.0.1")
    engine = make_engine(settings.database_url_for("notifier"))
    notifier = Notifier(engine, settings, Channels(settings), lambda: clock[0])
    with engine.begin() as connection:
        fold_events(connection, events())
    return notifier


def queued(notifier: Notifier) -> list[str]:
    with notifier.engine.connect() as connection:
        return list(connection.execute(select(messages.c.message_id).order_by(
            messages.c.message_id)).scalars())


def test_the_reminder_comes_at_the_schools_time_once_a_day(
        embedded_settings: Settings, migrated: Any) -> None:
    clock = [at("15:59")]
    notifier = notifier_for(migrated(embedded_settings), clock)
    assert notifier.plan() == 0
    clock[0] = at("16:01")
    assert notifier.plan() == 2
    assert queued(notifier) == ["parent:shg48:st1-p1:st1:2026-10-14:email",
                                "reminder:shg48:t1:2026-10-14:email"]
    clock[0] = at("18:00")
    assert notifier.plan() == 0  # the day was planned


def test_a_school_sets_its_own_time_and_turns_parents_notices_off(
        embedded_settings: Settings, migrated: Any, monkeypatch: Any) -> None:
    settings = migrated(embedded_settings)
    monkeypatch.setenv("KOZOMOL_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    answer = runner.invoke(main, ["notifier", "settings", "--school", "shg48",
                                  "--reminder-time", "15:30", "--no-parents"])
    assert answer.exit_code == 0, answer.output
    refused = runner.invoke(main, ["notifier", "settings", "--school", "shg48",
                                   "--reminder-time", "half past three"])
    assert refused.exit_code != 0 and "time of day" in refused.output
    clock = [at("15:31")]
    notifier = notifier_for(settings, clock)
    assert notifier.plan() == 1
    assert queued(notifier) == ["reminder:shg48:t1:2026-10-14:email"]


def test_digests_wait_for_the_settling_window_and_summaries_for_the_set(
        embedded_settings: Settings, migrated: Any) -> None:
    clock = [at("16:50")]
    notifier = notifier_for(migrated(embedded_settings), clock)
    finding = {"id": "f1", "rule": "homework.late", "responsible": "teacher",
               "teacher_id": "t1", "class_id": "5a", "date": "2026-10-13", "status": "open",
               "message": "Домашнее задание к уроку 13.10.2026 не внесено в день проведения "
                          "урока."}
    young = {**finding, "id": "f2", "message": "Только что открытое замечание."}
    withdrawn = {**finding, "id": "f3", "message": "Замечание, снятое через 5 минут."}
    report = {"report_id": "r1", "kind": "fill_rate", "title": "Заполнение журнала",
              "parameters": {"date_from": "2026-09-29", "date_to": "2026-10-12"},
              "summary": [["Проведено уроков", "120"]], "requested_by": "schedule"}
    asked = {**report, "report_id": "r2", "requested_by": "deputy:tok"}
    with notifier.engine.begin() as connection:
        fold_events(connection, [
            Event("x1", "finding.opened", "shg48", at("09:00"), finding),
            Event("x2", "finding.opened", "shg48", at("16:40"), young),
            Event("x3", "finding.opened", "shg48", at("15:00"), withdrawn),
            Event("x4", "finding.closed", "shg48", at("15:05"), {**withdrawn,
                                                                   "status": "withdrawn"}),
            Event("x5", "report.ready", "shg48", at("16:45"), report),
            Event("x6", "report.ready", "shg48", at("16:45"), asked)])
    clock[0] = at("17:01")
    notifier.plan()
    digest = _message(notifier, "digest:shg48:t1:2026-10-14:email")
    assert "Домашнее задание к уроку 13.10.2026" in digest["body"]
    assert "Только что открытое" not in digest["body"]   # younger than 60 minutes
    assert "снятое" not in digest["body"]                # opened and withdrawn
    assert not [m for m in queued(notifier) if m.startswith("summary")]  # report too young
    clock[0] = at("17:50")
    notifier.plan()
    summaries = [m for m in queued(notifier) if m.startswith("summary")]
    assert summaries == ["summary:shg48:d1:fill_rate:2026-09-29/2026-10-12:email"]
    clock[0] = at("19:00")
    notifier.plan()
    assert len([m for m in queued(notifier) if m.startswith("summary")]) == 1


def test_a_report_arriving_at_night_is_summarised_for_the_morning(
        embedded_settings: Settings, migrated: Any) -> None:
    clock = [at("22:00")]
    notifier = notifier_for(migrated(embedded_settings), clock)
    report = {"report_id": "r1", "kind": "fill_rate", "title": "Заполнение журнала",
              "parameters": {"date_from": "2026-09-29", "date_to": "2026-10-12"},
              "summary": [], "requested_by": "schedule"}
    with notifier.engine.begin() as connection:
        fold_events(connection, [Event("x1", "report.ready", "shg48", at("20:30"), report)])
    notifier.plan()
    row = _message(notifier, "summary:shg48:d1:fill_rate:2026-09-29/2026-10-12:email")
    assert row["not_before"].replace(tzinfo=UTC) == datetime(2026, 10, 15, 2, 0, tzinfo=UTC)


def _message(notifier: Notifier, message_id: str) -> dict[str, Any]:
    with notifier.engine.connect() as connection:
        rows = {r["message_id"]: r for r in message_store.listing(connection)}
    return rows[message_id]


def test_the_fold_does_not_depend_on_the_order_events_arrive_in(
        embedded_settings: Settings, migrated: Any, tmp_path: Any) -> None:
    """A simulated school's day in time order, and shuffled into odd batches with every
    tenth event delivered twice: the same messages."""
    day = school_day.telling_day()
    cutoff = school_day.cutoff_of(day)
    events = [Event.from_envelope(e) for e in school_day.day_events(day)]
    shuffled = list(events)
    random.Random(4).shuffle(shuffled)
    shuffled += shuffled[::10]
    results = []
    for name, stream, size in (("ordered", events, 500), ("shuffled", shuffled, 37)):
        url = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        upgrade(url, "notifier", SERVICES)
        engine = make_engine(url)
        for start in range(0, len(stream), size):
            with engine.begin() as connection:
                fold_events(connection, stream[start:start + size])
        moment = cutoff + timedelta(minutes=5)
        with engine.connect() as connection:
            facts = facts_store.load_school(
                connection, events[0].school_id, days=(day, day - timedelta(days=6)),
                marks_since=(moment - timedelta(days=1)).astimezone(UTC).isoformat())
        engine.dispose()
        drafts = planning.reminders(facts, day) + planning.parent_notices(
            facts, day, since=moment - timedelta(days=1), now=moment)
        results.append([(d.key, d.body) for d in drafts])
    assert results[0] and results[0] == results[1]
