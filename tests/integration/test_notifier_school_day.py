"""A simulated school day through the notifier on RabbitMQ and PostgreSQL (issue 17):
the simulator's events up to 16:00 go through the broker to the notifier's consumer;
at 16:00 school-local time the notifier reminds and notifies, and a real SMTP server
receives exactly the e-mails the issue's words call for, worked out here from the
events themselves."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import takewhile
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import func, select

from kozomol.simulator.run import SimulationSpec, school_events
from services.notifier.adapters.tables import inbox
from services.notifier.main import bootstrap
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import SUBSCRIPTIONS, Topology
from shared.settings import Settings
from tests.notifier_support import SmtpSink, text_of
from tests.support import BROKER_URL, wait_for

pytestmark = pytest.mark.integration
DUMP = False

ZONE = ZoneInfo("Asia/Bishkek")
SPEC = SimulationSpec(seed=11, parallels=1, grades=(5, 6, 7))
#: the school days looked at for one with something of each kind to say
FIRST_DAY, LAST_DAY = date(2026, 9, 8), date(2026, 10, 24)
WRITTEN = ("written", "test", "control", "dictation", "essay", "lab", "practical", "project")
#: the issue's words in the recipient's language: lesson line, written-work line, subject
WORDING = {
    "ru": (re.compile(r"^• (.+?), (.+), (\d+)-й урок: (.+)$"),
           re.compile(r"^• (.+?), (.+): нет отметок у (\d+) уч\."),
           "Напоминание: электронный журнал, {date}",
           ("тему урока", "домашнее задание", "отметку отсутствующих")),
    "ky": (re.compile(r"^• (.+?), (.+), (\d+)-сабак: (.+)$"),
           re.compile(r"^• (.+?), (.+): (\d+) окуучунун баасы жок"),
           "Эскертме: электрондук журнал, {date}",
           ("сабактын темасын", "үй тапшырмасын", "келбегендерди")),
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


def cutoff_of(day: date) -> datetime:
    return datetime.combine(day, time(16, 0), tzinfo=ZONE)


@cache
def _stream() -> tuple[dict[str, Any], ...]:
    last = cutoff_of(LAST_DAY)
    return tuple(takewhile(lambda e: datetime.fromisoformat(e["occurred_at"]) <= last,
                           school_events(SPEC)))


def day_events(day: date) -> list[dict[str, Any]]:
    """One school (grades 5-7, one class each) from the start of the year up to 16:00."""
    cutoff = cutoff_of(day)
    return [e for e in _stream() if datetime.fromisoformat(e["occurred_at"]) <= cutoff]


@cache
def telling_day() -> date:
    """The first school day from FIRST_DAY with lessons, written work and parents to tell
    about, and both languages among the recipients (so the test cannot pass by having
    nothing to check)."""
    day = FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() != 6:
            events = day_events(day)
            lines, written, parents = expected_mail(events, day)
            languages = {_language(t) for t in latest(events, "teacher.profile",
                                                      "teacher_id").values()
                         if t.get("email") in set(lines) | set(written)}
            languages |= {language for _, language in parents.values()}
            if lines and written and parents and languages == {"ru", "ky"}:
                return day
        day += timedelta(days=1)
    raise AssertionError("no simulated day has reminders, written work and parents' notices")


def latest(events: list[dict[str, Any]], event_type: str, key: str) -> dict[str, dict[str, Any]]:
    found: dict[str, tuple[tuple[datetime, str], dict[str, Any]]] = {}
    for event in events:
        if event["type"] == event_type:
            order = (datetime.fromisoformat(event["occurred_at"]), event["id"])
            entity = str(event["data"][key])
            if entity not in found or found[entity][0] < order:
                found[entity] = (order, event["data"])
    return {entity: data for entity, (_, data) in found.items()}


Expected = tuple[dict[str, set[Any]], dict[str, set[Any]], dict[str, tuple[str, str]]]


def expected_mail(events: list[dict[str, Any]], day: date) -> Expected:
    """Teacher e-mail → lesson lines and written-work lines; parent e-mail → child's name."""
    teachers = latest(events, "teacher.profile", "teacher_id")
    lessons = latest(events, "lesson.recorded", "lesson_id")
    deleted = {e["data"]["lesson_id"] for e in events if e["type"] == "lesson.deleted"}
    sheets = latest(events, "attendance.recorded", "lesson_id")
    plans = {p["subject_id"]: p["subject_name"] for p in latest(
        events, "subject.plan", "subject_id").values()}
    marks = latest(events, "mark.recorded", "mark_id")
    rosters = latest(events, "class.roster", "class_id")

    def class_name(class_id: str) -> str:
        """The class as the school writes it («5 «А»»), as a teacher reads it in the mail."""
        return str(rosters[class_id].get("class_name") or class_id)

    lines: dict[str, set[Any]] = defaultdict(set)
    # "a teacher whose lessons of today still lack topic, homework or attendance"
    for lesson_id, lesson in lessons.items():
        if lesson["date"] != day.isoformat() or lesson_id in deleted:
            continue
        missing = [word for word, lacking in (
            ("тему урока", not (lesson.get("topic") or "").strip()),
            ("домашнее задание", not (lesson.get("homework") or "").strip()),
            ("отметку отсутствующих", lesson_id not in sheets)) if lacking]
        if missing:
            teacher = teachers[lesson["teacher_id"]]
            words = dict(zip(WORDING["ru"][3], WORDING[_language(teacher)][3], strict=True))
            lines[teacher["email"]].add((class_name(lesson["class_id"]),
                                         plans[lesson["subject_id"]], lesson["period"],
                                         ", ".join(words[m] for m in missing)))
    # "written-work marks due tomorrow": the work of (tomorrow - 7 days), present students
    work_day = (day + timedelta(days=1) - timedelta(days=7)).isoformat()
    written: dict[str, set[Any]] = defaultdict(set)
    marked: dict[str, set[str]] = defaultdict(set)
    for mark in marks.values():
        if mark.get("lesson_id") and mark.get("work_type") in WRITTEN:
            marked[mark["lesson_id"]].add(mark["student_id"])
    for lesson_id, lesson in lessons.items():
        if lesson["date"] != work_day or lesson_id in deleted or not marked.get(lesson_id):
            continue
        students = [s["student_id"] for s in rosters[lesson["class_id"]]["students"]
                    if lesson.get("subgroup") is None
                    or s["subgroups"].get(lesson["subject_id"]) == lesson["subgroup"]]
        absent = {a["student_id"] for a in sheets.get(lesson_id, {}).get("absent", [])}
        count = sum(1 for s in students if s not in absent and s not in marked[lesson_id])
        if count:
            email = teachers[lesson["teacher_id"]]["email"]
            written[email].add((class_name(lesson["class_id"]), plans[lesson["subject_id"]], count))
    # parents who opted in: their child's unexplained absences today, "2"s entered today
    noticed: set[str] = set()
    for lesson_id, sheet in sheets.items():
        lesson = lessons.get(lesson_id)
        if lesson and lesson["date"] == day.isoformat() and lesson_id not in deleted:
            noticed |= {a["student_id"] for a in sheet["absent"]
                        if a.get("reason") in (None, "unexcused")}
    since = cutoff_of(day) + timedelta(minutes=5) - timedelta(days=1)
    for event in events:
        data = event["data"]
        if event["type"] == "mark.recorded" and data["value"] == "2" \
                and data.get("kind", "current") == "current" \
                and datetime.fromisoformat(event["occurred_at"]) > since \
                and marks[data["mark_id"]] is data:
            noticed.add(data["student_id"])
    students = latest(events, "student.profile", "student_id")
    parents: dict[str, tuple[str, str]] = {}
    for student_id in noticed:
        for parent in students[student_id]["parents"]:
            if parent.get("notifications") and parent.get("email"):
                parents[parent["email"]] = (
                    " ".join(students[student_id]["full_name"].split()[:2]), _language(parent))
    return lines, written, parents


def test_a_school_day_brings_exactly_the_emails_the_issue_calls_for(
        production_settings: Settings, migrated: Any, smtp: SmtpSink) -> None:
    settings = migrated(replace(
        production_settings, notifier_smtp_host="127.0.0.1", notifier_smtp_port=smtp.port,
        notifier_smtp_security="none", notifier_mail_from="kozomol@sch.edu.kg",
        notifier_plan_interval=0.2, notifier_send_interval=0.2))
    day = telling_day()
    events = day_events(day)
    lines, written, parents = expected_mail(events, day)
    assert lines and written and parents  # the day has something to say
    clock = Clock(cutoff_of(day) - timedelta(hours=1))  # 15:00: nothing is due yet
    service = bootstrap(settings, clock)
    service.start()
    try:
        assert service.consumer.ready.wait(30)
        topology = Topology(settings.namespace, "quorum", settings.delivery_limit)
        publisher = ConfirmingPublisher(BROKER_URL, topology, connect_timeout=5,
                                        confirm_timeout=30)
        for start in range(0, len(events), 1000):
            publisher.publish([OutgoingMessage(topology.events.name, e["type"], orjson.dumps(e),
                                               e["id"], {"school_id": e["school_id"]})
                               for e in events[start:start + 1000]])
        publisher.close()
        wanted = sum(1 for e in events if e["type"] in SUBSCRIPTIONS["notifier"])
        wait_for(lambda: _processed(service.engine) == wanted, timeout=120)
        assert smtp.messages == []
        clock.now = cutoff_of(day) + timedelta(minutes=5)
        expected_count = len(set(lines) | set(written)) + len(parents)
        wait_for(lambda: len(smtp.messages) >= expected_count, timeout=60)
        clock.now += timedelta(hours=1)  # planning again the same day queues nothing new
        service.consumer.ready.wait(1)
    finally:
        service.stop()

    by_recipient = {m["To"]: m for m in smtp.messages}
    if DUMP:
        for m in smtp.messages:
            print(m["To"], m["Subject"], text_of(m), sep="\n", end="\n\n")
    assert len(by_recipient) == len(smtp.messages), "someone got two messages"
    teacher_mail = {to: m for to, m in by_recipient.items() if "edu.kg" in to}
    assert set(teacher_mail) == set(lines) | set(written)
    languages = {t["email"]: _language(t)
                 for t in latest(events, "teacher.profile", "teacher_id").values()}
    seen = {languages[to] for to in teacher_mail} | {lang for _, lang in parents.values()}
    assert seen == {"ru", "ky"}  # both wordings seen
    for to, message in teacher_mail.items():
        lesson_line, written_line, subject, _ = WORDING[languages[to]]
        body = text_of(message).splitlines()
        assert message["Subject"] == subject.format(date=day.strftime("%d.%m.%Y"))
        got = {(m[1], m[2], int(m[3]), m[4]) for line in body if (m := lesson_line.match(line))}
        assert got == lines.get(to, set()), to
        got_written = {(m[1], m[2], int(m[3])) for line in body
                       if (m := written_line.match(line))}
        assert got_written == written.get(to, set()), to
    parent_mail = {to: m for to, m in by_recipient.items() if to not in teacher_mail}
    assert set(parent_mail) == set(parents)
    for to, message in parent_mail.items():
        child, language = parents[to]
        journal = {"ru": "электронный журнал", "ky": "электрондук журнал"}[language]
        assert message["Subject"] == f"{child}: {journal}, {day:%d.%m.%Y}"
        assert child in text_of(message)
        others = {name for name, _ in parents.values()} - {child}
        assert not any(name in text_of(message) for name in others)  # never another child


def _language(person: dict[str, Any]) -> str:
    return str(person.get("preferred_language") or "ru")


def _processed(engine: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(inbox)).scalar_one())
