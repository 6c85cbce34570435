"""The rule catalog v1, evaluated over a school's facts at a moment (pure).

``evaluate(facts, now, params)`` returns every finding that holds at ``now``.
It depends only on the facts (which do not depend on the order events came
in) and on ``now``, so replaying the same events in any order gives the same
findings; a finding whose cause the newest evidence removed is simply no
longer returned, and the service withdraws it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.checker.domain.facts import LessonFacts, SchoolFacts, Stamp, Term
from shared.events.rules import CHOICE_DEFAULTS, SUBJECT_LIST_DEFAULTS

VALID_MARKS = ("2", "3", "4", "5")
WRITTEN_KINDS = frozenset({"written", "test", "control", "dictation", "essay", "lab",
                           "practical", "project"})
FINAL_KINDS = frozenset({"quarter", "half_year", "year"})
#: How a topic names each kind of graded work, in Russian and in Kyrgyz (clause 4.4:
#: «обязательно указание тем практических, лабораторных, контрольных работ»).
ASSESSMENT_WORDS = {
    "control": ("контрольн", "контролдук", "текшерүү иш"), "test": ("тест", "test"),
    "lab": ("лаборатор",), "practical": ("практическ", "практикалык"),
    "dictation": ("диктант",),
    "essay": ("сочинени", "изложени", "essay", "дилбаян", "чыгарма"),
}
#: A topic that only says "repeat" (clause 4.4: «прочерки, обозначающие „повтор“, запрещены»).
PLACEHOLDER = re.compile(
    r"^[\s\-–—‒―.…,:;\"'`〃«»„“”=/\\|_~*+]*$"
    r"|^(повтор|то\s*же(\s+самое)?|тоже(\s+самое)?|аналогично|см\.?\s*выше|ошол\s+эле"
    r"|см\.?\s*пред(ыдущ\w*|\.)?(\s*урок\w*)?)[\s.!,;:\-–—]*$",
    re.IGNORECASE)
#: Abbreviated words (clause 4.4: «сокращение слов при записи тем уроков - не допускается»).
ABBREVIATION = re.compile(
    r"(?<!\w)([а-яёңөү]{1,3}/[а-яёңөү]{1,3}(?![\w/])|пр\.\s*р\.|контр\.|сам\.\s*раб\.|упр\.|"
    r"стр\.|повт\.|дом\.\s*зад\.?|лаб\.|практ\.|зад\.|вн\.\s*чт\.|т\.\s*е\.|т\.\s*к\.|"
    r"и\s+т\.\s*д\.?|и\s+т\.\s*п\.?|ж\.\s*б\.)", re.IGNORECASE)
KYRGYZ_ONLY = re.compile(r"[ңөүҢӨҮ]")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN = re.compile(r"[A-Za-z]")
NOT_A_LETTER = re.compile(r"[\W_]+")
#: Languages of instruction whose topics are judged, and whether Kyrgyz letters belong.
KYRGYZ_LETTERS_ALLOWED = {"ru": False, "ky": True}
TERM_KINDS = frozenset({"quarter", "half_year"})
#: Homework that says none was set (clause 3.6 counts it as entered; it sets no work).
NO_HOMEWORK = re.compile(
    r"^\s*(не\s+задано|не\s+задан[оа]?|без\s+задани[яй]|нет|—|-|берилген\s+жок|"
    r"тапшырма\s+жок|жок)[\s.!]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Parameters:
    """Per-school parameters of the rules, with the catalog's defaults."""

    written_mark_days: int = 7
    oral_mark_days: int = 0
    min_marks_per_lesson: int = 3
    density_window_days: int = 14
    failing_followup_school_days: int = 3
    long_absence_lessons: int = 3
    final_mark_days: int = 2
    min_marks_for_final: int = 3
    program_lag_lessons: int = 2
    absence_reason_days: int = 3
    personal_data_days: int = 7
    outage_grace_days: int = 3
    marked_from_grade: int = 2
    homework_from_grade: int = 2
    homework_minutes_grades_2_3: int = 90
    homework_minutes_grades_4_5: int = 120
    homework_minutes_grades_6_8: int = 150
    homework_minutes_grades_9_11: int = 210
    homework_notice_hours: int = 4
    journal_visit_days: int = 14
    journal_visits_rule: int = 0
    personal_data_period: str = CHOICE_DEFAULTS["personal_data_period"][0]
    language_subjects: frozenset[str] = frozenset(SUBJECT_LIST_DEFAULTS["language_subjects"])

    def homework_norm(self, grade: int) -> int | None:
        """Minutes of homework a day for the grade (clause 1.3), None for grade 1."""
        if grade <= 1:
            return None
        if grade <= 3:
            return self.homework_minutes_grades_2_3
        if grade <= 5:
            return self.homework_minutes_grades_4_5
        if grade <= 8:
            return self.homework_minutes_grades_6_8
        return self.homework_minutes_grades_9_11

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> Parameters:
        """A school's parameters: its own values over the catalog's defaults."""
        known: dict[str, Any] = {name: int(value) for name, value in values.items()
                                 if name in cls.__dataclass_fields__
                                 and name != "language_subjects" and name not in CHOICE_DEFAULTS}
        for name, (_, allowed) in CHOICE_DEFAULTS.items():
            if values.get(name) in allowed:
                known[name] = values[name]
        if isinstance(values.get("language_subjects"), list):
            known["language_subjects"] = frozenset(str(v) for v in values["language_subjects"])
        return cls(**known)


@dataclass(frozen=True)
class Finding:
    rule: str
    date: date
    class_id: str | None = None
    subject_id: str | None = None
    subgroup: str | None = None
    teacher_id: str | None = None
    student_id: str | None = None
    lesson_id: str | None = None
    mark_id: str | None = None
    term_id: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class Calendar:
    """The school's days and times: time zone, weekend, holidays, terms, outages."""

    def __init__(self, facts: SchoolFacts, params: Parameters) -> None:
        data = facts.calendar.data or {}
        self.zone = ZoneInfo(data.get("timezone", "Asia/Bishkek"))
        self.weekend = {("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(day)
                        for day in data.get("weekend", ["sun"])}
        self.holidays = {date.fromisoformat(d) for d in data.get("holidays", [])}
        self.terms = [Term(t["id"], t["kind"], t["number"], date.fromisoformat(t["start"]),
                           date.fromisoformat(t["end"])) for t in data.get("terms", [])]
        self.outages = sorted(facts.outages.values())
        self.grace = timedelta(days=params.outage_grace_days)

    def is_school_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def school_days_after(self, day: date, count: int) -> date:
        current, seen = day, 0
        while seen < count and current < day + timedelta(days=120):
            current += timedelta(days=1)
            seen += self.is_school_day(current)
        return current

    def first_school_day(self, term: Term) -> date:
        day = term.start
        while not self.is_school_day(day) and day < term.end:
            day += timedelta(days=1)
        return day

    def end_of(self, day: date) -> datetime:
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def deadline(self, opens: date, due: date) -> datetime:
        """End of ``due``, moved past any outage during the entry window (clause 4.4)."""
        limit = self.end_of(due)
        window_start = datetime.combine(opens, time(0, 0), tzinfo=self.zone)
        for started, ended in self.outages:
            if started <= limit and ended >= window_start:
                limit = max(limit, ended + self.grace)
        return limit

    def term_of(self, day: date, kinds: frozenset[str] = frozenset({"quarter"})) -> Term | None:
        return next((t for t in self.terms if t.kind in kinds and t.start <= day <= t.end), None)


def round_half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def late_or_missing(first_at: datetime | None, deadline: datetime, now: datetime) -> bool:
    if first_at is None:
        return now > deadline
    return first_at > deadline


def school_view(facts: SchoolFacts, now: datetime, params: Parameters = Parameters()
                ) -> SchoolView | None:
    """The school as the rules see it at ``now``; None without its calendar."""
    if facts.calendar.data is None:
        return None  # nothing can be judged without the school's calendar
    return SchoolView(facts, now, params)


def evaluate(facts: SchoolFacts, now: datetime, params: Parameters = Parameters(), *,
             view: SchoolView | None = None) -> list[Finding]:
    """Every finding that holds for the school at ``now``.

    ``view`` is this school's :func:`school_view` at ``now`` when the caller has
    already built it (the sweep shares one with the term results: building it
    is most of a large school's cost).
    """
    context = view or school_view(facts, now, params)
    if context is None:
        return []
    findings: list[Finding] = []
    for check in (context.lesson_rules, context.mark_rules, context.density, context.final_marks,
                  context.program, context.absences, context.personal_data,
                  context.homework_load, context.journal_visits):
        findings.extend(check())
    return findings


class SchoolView:
    """One school's facts indexed for judging at one moment (read-only once built).

    The rules are its methods; the term results (``domain/results.py``) ask it
    who owes a term mark through its public helpers (``members_on``,
    ``exempt``, ``term_system``, ``taught``, ``entered_final_marks``).
    """

    def __init__(self, facts: SchoolFacts, now: datetime, params: Parameters) -> None:
        self.facts, self.now, self.params = facts, now, params
        self.calendar = Calendar(facts, params)
        self.today = self.calendar.local_date(now)
        self.language = (facts.calendar.data or {}).get("language_of_instruction", "ru")
        self.grades = {cid: c.data["grade"] for cid, c in facts.classes.items() if c.data}
        #: (student, subject) -> their subgroup, from the newest roster that lists them
        self.subgroups: dict[tuple[str, str], str] = {}
        for roster in facts.classes.values():
            for student_id, (_, groups) in roster.groups.items():
                for subject_id, group in groups.items():
                    self.subgroups[(student_id, subject_id)] = group
        self.live_lessons = {lid: item for lid, item in facts.lessons.items() if item.live}
        self.live_marks = {mid: m.data for mid, m in facts.marks.items()
                           if m.live and m.data is not None}
        self.lesson_days: set[tuple[str, str, date]] = set()
        self.streams: dict[tuple[str, str, str | None], list[dict[str, Any]]] = defaultdict(list)
        #: (class, subject, date) -> that day's lessons, in period order
        self.day_lessons: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        #: class -> every live lesson of the class, in timetable order
        self.class_lessons: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for lesson in self.live_lessons.values():
            data = lesson.data or {}
            self.lesson_days.add((data["class_id"], data["subject_id"],
                                  date.fromisoformat(data["date"])))
            self.streams[(data["class_id"], data["subject_id"], data.get("subgroup"))].append(data)
            self.day_lessons[(data["class_id"], data["subject_id"], data["date"])].append(data)
            self.class_lessons[data["class_id"]].append(data)
        for ordered in (*self.streams.values(), *self.day_lessons.values(),
                        *self.class_lessons.values()):
            ordered.sort(key=_timetable_order)
        self._next_days: dict[str, date] | None = None
        self.current_marks = [(mid, m) for mid, m in sorted(self.live_marks.items())
                              if m["kind"] == "current"]
        self.marks_by_lesson: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.marks_by_student: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        #: mark id -> the lesson it belongs to (its lesson_id, or found by its date)
        self.lesson_of_mark: dict[str, str] = {}
        #: current marks that belong to no lesson, by class and subject
        self.loose_marks: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for mark_id, mark in self.current_marks:
            lesson_id = self._lesson_for(mark)
            if lesson_id:
                self.lesson_of_mark[mark_id] = lesson_id
                self.marks_by_lesson[lesson_id].append(mark)
            else:
                self.loose_marks[(mark["class_id"], mark["subject_id"])].append(mark)
            self.marks_by_student[(mark["student_id"], mark["subject_id"])].append(mark)

    def _lesson_for(self, mark: dict[str, Any]) -> str | None:
        """The lesson a current mark belongs to.

        The contract allows marks without ``lesson_id`` (a journal column only):
        such a mark belongs to the first lesson of its class and subject on its
        date that the student attends (whole class, or the student's subgroup).
        """
        if mark.get("lesson_id"):
            return str(mark["lesson_id"])
        group = self.subgroups.get((mark["student_id"], mark["subject_id"]))
        for lesson in self.day_lessons.get((mark["class_id"], mark["subject_id"], mark["date"]),
                                           []):
            if lesson.get("subgroup") is None or lesson.get("subgroup") == group:
                return str(lesson["lesson_id"])
        return None

    # lessons and topics --------------------------------------------------------
    def lesson_rules(self) -> Iterator[Finding]:
        calendar, params = self.calendar, self.params
        same_day: dict[tuple[str, str, str | None, str], list[dict[str, Any]]] = \
            defaultdict(list)
        for lesson_id, lesson in self.live_lessons.items():
            data = lesson.data or {}
            day = date.fromisoformat(data["date"])
            base: dict[str, Any] = dict(
                date=day, class_id=data["class_id"], subject_id=data["subject_id"],
                subgroup=data.get("subgroup"), teacher_id=data["teacher_id"], lesson_id=lesson_id)
            deadline = calendar.deadline(day, day)
            for rule, field_name, first_at in (
                    ("lesson.topic.late", "topic", lesson.first_topic_at),
                    ("homework.late", "homework", lesson.first_homework_at)):
                # Once the day is over the lesson's current state counts: a topic
                # entered and then cleared is as missing as one never entered.
                cleared = first_at is not None and not (data.get(field_name) or "").strip()
                if late_or_missing(first_at, deadline, self.now) or (
                        cleared and self.now > deadline):
                    yield Finding(rule, **base, evidence={
                        **_times(first_at, deadline), **({"cleared": True} if cleared else {})})
            yield from self._homework(lesson_id, lesson, data, base, deadline)
            sheet = self.facts.attendance.get(lesson_id)
            if late_or_missing(sheet.first_at if sheet else None, deadline, self.now):
                yield Finding("attendance.late", **base,
                              evidence=_times(sheet.first_at if sheet else None, deadline))
            scheduled = data.get("scheduled_teacher_id")
            if data.get("is_substitution"):
                if lesson.first_substitution_at and lesson.first_substitution_at > deadline:
                    yield Finding("substitution.unrecorded", **base,
                                  evidence=_times(lesson.first_substitution_at, deadline))
            elif scheduled and scheduled != data["teacher_id"]:
                yield Finding("substitution.unrecorded", **base,
                              evidence={"teacher_id": data["teacher_id"],
                                        "scheduled_teacher_id": scheduled})
            if data.get("subgroup") is not None and not data.get("is_substitution"):
                plan = self._plan_on(data["class_id"], data["subject_id"], data["subgroup"], day)
                if plan and plan["teacher_id"] != data["teacher_id"]:
                    yield Finding("subgroup.wrong_teacher", **base,
                                  evidence={"plan_teacher_id": plan["teacher_id"]})
            topic = (data.get("topic") or "").strip()
            if topic:
                same_day[(data["class_id"], data["subject_id"], data.get("subgroup"),
                          data["date"])].append(data)
                yield from self._topic(topic, data, base, params)
        for lessons in same_day.values():
            lessons.sort(key=_timetable_order)
            seen: set[str] = set()
            for data in lessons:
                normal = " ".join(NOT_A_LETTER.sub(" ", data["topic"].casefold()).split())
                if normal and normal in seen and not PLACEHOLDER.match(data["topic"].strip()):
                    yield Finding("topic.double_lesson_duplicate",
                                  date=date.fromisoformat(data["date"]),
                                  class_id=data["class_id"], subject_id=data["subject_id"],
                                  subgroup=data.get("subgroup"), teacher_id=data["teacher_id"],
                                  lesson_id=data["lesson_id"], evidence={"topic": data["topic"]})
                seen.add(normal)

    def _homework(self, lesson_id: str, lesson: LessonFacts, data: dict[str, Any],
                  base: dict[str, Any], deadline: datetime) -> Iterator[Finding]:
        """Clause 1.3 (no homework below ``homework_from_grade``) and 3.7 (posted ahead)."""
        if not sets_homework(data):
            return
        if self.grades.get(data["class_id"], 99) < self.params.homework_from_grade:
            yield Finding("homework.grade_not_allowed", **base,
                          evidence={"homework": data["homework"]})
            return
        entered = lesson.first_homework_at
        due = self.next_lesson_day(data)
        notice = homework_notice(self.calendar, entered, date.fromisoformat(data["date"]),
                                 due, deadline)
        if notice is not None and due is not None and entered is not None and \
                notice < timedelta(hours=self.params.homework_notice_hours):
            yield Finding("homework.not_ahead", **base, evidence={
                "entered_at": entered.isoformat(), "due": due.isoformat(),
                "hours": self.params.homework_notice_hours,
                "notice_hours": round(notice.total_seconds() / 3600, 2)})

    def next_lesson_day(self, data: dict[str, Any]) -> date | None:
        """The day of the stream's next lesson on a later day: when the homework is due."""
        if self._next_days is None:
            self._next_days = {}
            for lessons in self.streams.values():
                self._next_days.update(next_lesson_days(lessons))
        return self._next_days.get(data["lesson_id"])

    def homework_load(self) -> Iterator[Finding]:
        """Clause 1.3: a class's homework set on one day, by the teachers' estimates,
        within the norm for its grade. Subgroups: the largest subgroup's load of a
        subject counts (a student is in one). Homework without an estimate is not
        guessed: it is counted in the evidence as ``unestimated``."""
        for class_id, lessons in sorted(self.class_lessons.items()):
            norm = self.params.homework_norm(self.grades.get(class_id, 0))
            if norm is None:
                continue
            for day, minutes, unestimated, lesson_ids in daily_homework(lessons):
                if minutes > norm:
                    yield Finding("homework.load.excessive", date=day, class_id=class_id,
                                  evidence={"minutes": minutes, "norm": norm,
                                            "unestimated": unestimated, "lessons": lesson_ids})

    def journal_visits(self) -> Iterator[Finding]:
        """Clause 4.3 (a rule only when the school switches it on): a student of the
        class, or their parents, with no visit for ``journal_visit_days`` days up to the
        newest day Kundoluk reported for the class."""
        if not self.params.journal_visits_rule:
            return
        for row in visit_rows(self.facts, self.params.journal_visit_days):
            if row["who"]:
                # Dated from the first day without a visit, and without the count of
                # days: a finding that stays the same while the silence lasts (a daily
                # report would otherwise update it every day).
                yield Finding("journal.not_visited", date=row["idle_since"],
                              class_id=row["class_id"], student_id=row["student_id"],
                              teacher_id=row["class_teacher_id"],
                              evidence={"who": row["who"], "last_visit": _iso_day(
                                  row["idle_since"] - timedelta(days=1)
                                  if row["idle_since"] > row["reported_from"] else None)})

    def _plan_on(self, class_id: str, subject_id: str, subgroup: str | None,
                 day: date) -> dict[str, Any] | None:
        """The plan (КТП) of a stream for the term holding ``day``: quarter or half-year."""
        for term in self.calendar.terms:
            if term.kind in TERM_KINDS and term.start <= day <= term.end:
                plan = self.facts.plans.get((class_id, subject_id, subgroup, term.term_id))
                if plan and plan.data:
                    return plan.data
        return None

    def _topic(self, topic: str, data: dict[str, Any], base: dict[str, Any],
               params: Parameters) -> Iterator[Finding]:
        if PLACEHOLDER.match(topic):
            yield Finding("topic.placeholder", **base, evidence={"topic": topic})
            return
        if ABBREVIATION.search(topic):
            yield Finding("topic.abbreviation", **base, evidence={"topic": topic})
        if self.language in KYRGYZ_LETTERS_ALLOWED and \
                data["subject_id"] not in params.language_subjects:
            cyrillic, latin = len(CYRILLIC.findall(topic)), len(LATIN.findall(topic))
            kyrgyz = len(KYRGYZ_ONLY.findall(topic))
            foreign_letters = kyrgyz and not KYRGYZ_LETTERS_ALLOWED[self.language]
            if foreign_letters or not cyrillic + kyrgyz or latin > cyrillic + kyrgyz:
                yield Finding("topic.language", **base, evidence={"topic": topic})
        kinds = {m.get("work_type") for m in self.marks_by_lesson.get(data["lesson_id"], [])}
        lowered = topic.lower()
        unnamed = sorted(kind for kind in kinds if kind in ASSESSMENT_WORDS
                         and not any(word in lowered for word in ASSESSMENT_WORDS[kind]))
        if unnamed:
            yield Finding("topic.assessment_unnamed", **base,
                          evidence={"topic": topic, "work_types": unnamed})

    # marks -----------------------------------------------------------------------
    def mark_rules(self) -> Iterator[Finding]:
        calendar, params = self.calendar, self.params
        for mark_id, mark in self.current_marks:
            day = date.fromisoformat(mark["date"])
            base: dict[str, Any] = dict(
                date=day, class_id=mark["class_id"], subject_id=mark["subject_id"],
                teacher_id=mark["teacher_id"], student_id=mark["student_id"],
                lesson_id=mark.get("lesson_id"), mark_id=mark_id)
            if mark["value"] not in VALID_MARKS:
                yield Finding("mark.value.invalid", **base, evidence={"value": mark["value"]})
            work_type = mark.get("work_type")
            if work_type is None:
                yield Finding("mark.work_type.missing", **base)
            first_at = self.facts.marks[mark_id].first_at
            if work_type in WRITTEN_KINDS or work_type == "oral":
                days = params.written_mark_days if work_type != "oral" else params.oral_mark_days
                deadline = calendar.deadline(day, day + timedelta(days=days))
                if first_at is not None and first_at > deadline:
                    yield Finding("mark.late", **base, evidence={
                        **_times(first_at, deadline),
                        "severity": "warning" if work_type == "oral" else "violation"})
            if (mark["class_id"], mark["subject_id"], day) not in self.lesson_days:
                yield Finding("mark.date.not_lesson", **base)
            if mark["value"] == "2":
                yield from self._failing(mark_id, mark, day, base)

    def _failing(self, mark_id: str, mark: dict[str, Any], day: date,
                 base: dict[str, Any]) -> Iterator[Finding]:
        calendar, params = self.calendar, self.params
        term = calendar.term_of(day)
        if term is not None and day == calendar.first_school_day(term):
            yield Finding("mark.failing.first_day_of_term", **base, term_id=term.term_id)
        window_end = calendar.school_days_after(day, params.failing_followup_school_days)
        if self.now > calendar.end_of(window_end) and self._stays(mark, window_end):
            # Clause 4.4 asks to question the student again within 2-3 days: a
            # second mark on the same day is not that.
            followed = any(day < date.fromisoformat(other["date"]) <= window_end
                           for other in self.marks_by_student[(mark["student_id"],
                                                               mark["subject_id"])])
            if not followed:
                yield Finding("mark.failing.no_followup", **base,
                              evidence={"followup_until": window_end.isoformat()})
        lesson_id = self.lesson_of_mark.get(mark_id)
        if lesson_id:
            missed = self._missed_before(lesson_id, mark["student_id"])
            if missed >= params.long_absence_lessons:
                yield Finding("mark.failing.after_absence", **base,
                              evidence={"missed_lessons": missed})

    def _stays(self, mark: dict[str, Any], day: date) -> bool:
        """Whether the student is still in the mark's class on ``day`` (a student who left
        cannot be questioned again)."""
        if mark["class_id"] not in self.facts.classes:
            return True
        return mark["student_id"] in self.members_on(mark["class_id"], day)

    def _missed_before(self, lesson_id: str, student_id: str) -> int:
        """Consecutive lessons (any subject) the student missed before returning, when
        ``lesson_id`` is their first lesson of its subject since; else 0."""
        lesson = self.live_lessons.get(lesson_id)
        if lesson is None or lesson.data is None:
            return 0
        subject_id = lesson.data["subject_id"]
        timetable = [d for d in self.class_lessons[lesson.data["class_id"]]
                     if d.get("subgroup") is None
                     or self.subgroups.get((student_id, d["subject_id"])) == d.get("subgroup")]
        position = next((i for i, d in enumerate(timetable) if d["lesson_id"] == lesson_id), 0)
        missed = 0
        for earlier in reversed(timetable[:position]):
            absent = self._absent(earlier["lesson_id"], student_id)
            if absent:
                missed += 1
            elif missed:
                break  # the run of absences is over
            elif earlier["subject_id"] == subject_id or absent is None:
                return 0  # attended this subject since (or no sheet): not the first lesson
        return missed

    def _absent(self, lesson_id: str, student_id: str) -> bool | None:
        """Whether the student was absent; None when the lesson has no attendance sheet."""
        sheet = self.facts.attendance.get(lesson_id)
        if sheet is None or sheet.data is None:
            return None
        return any(a["student_id"] == student_id for a in sheet.data.get("absent", []))

    def density(self) -> Iterator[Finding]:
        calendar, params = self.calendar, self.params
        for (class_id, subject_id, subgroup), lessons in sorted(
                self.streams.items(), key=lambda kv: str(kv[0])):
            if self.grades.get(class_id, 0) < params.marked_from_grade:
                continue
            windows: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
            for data in lessons:
                day = date.fromisoformat(data["date"])
                term = calendar.term_of(day)
                if term is None:
                    continue
                offset = (day - term.start).days // params.density_window_days
                start = term.start + timedelta(days=offset * params.density_window_days)
                windows[(term.term_id, start)].append(data)
            for (term_id, start), items in sorted(windows.items()):
                term = next(t for t in calendar.terms if t.term_id == term_id)
                end = min(term.end, start + timedelta(days=params.density_window_days - 1))
                if self.now <= calendar.end_of(end):
                    continue
                count = sum(len(self.marks_by_lesson.get(d["lesson_id"], [])) for d in items)
                count += sum(1 for m in self.loose_marks.get((class_id, subject_id), [])
                             if self.subgroups.get((m["student_id"], subject_id)) == subgroup
                             and start <= date.fromisoformat(m["date"]) <= end)
                if count < params.min_marks_per_lesson * len(items):
                    yield Finding("marks.density.low", date=start, class_id=class_id,
                                  subject_id=subject_id, subgroup=subgroup,
                                  teacher_id=items[-1]["teacher_id"], term_id=term_id,
                                  evidence={"lessons": len(items), "marks": count,
                                            "until": end.isoformat()})

    # terms ------------------------------------------------------------------------
    def final_marks(self) -> Iterator[Finding]:
        calendar, params = self.calendar, self.params
        finals = self.entered_final_marks()
        for term in calendar.terms:
            deadline = calendar.deadline(term.end, term.end + timedelta(
                days=params.final_mark_days))
            for student_id, subject_id, class_id, teacher_id in self._expected(term):
                found = finals.get((student_id, subject_id, term.term_id))
                base: dict[str, Any] = dict(date=term.end, class_id=class_id, subject_id=subject_id,
                            teacher_id=teacher_id, student_id=student_id, term_id=term.term_id)
                first_at = found[0] if found else None
                if found is None and self.now <= deadline:
                    continue
                if late_or_missing(first_at, deadline, self.now):
                    yield Finding("final_mark.late", **base, evidence=_times(first_at, deadline))
                # A year mark is not judged against current marks; "н/а" (not assessed)
                # is a decision, not a grade to compare.
                if found is None or term.kind == "year" or found[1]["value"] not in VALID_MARKS:
                    continue
                values = [int(m["value"]) for m in self.marks_by_student[(student_id,
                                                                           subject_id)]
                          if m["value"] in VALID_MARKS
                          and term.start <= date.fromisoformat(m["date"]) <= term.end]
                if len(values) < params.min_marks_for_final:
                    yield Finding("final_mark.insufficient_marks", **base,
                                  evidence={"current_marks": len(values)})
                value = found[1]["value"]
                if values and value in VALID_MARKS:
                    expected = round_half_up(sum(values) / len(values))
                    if abs(int(value) - expected) >= 1:
                        yield Finding("final_mark.inconsistent", **base, evidence={
                            "value": value, "rounded_mean": expected, "marks": values})

    def entered_final_marks(self) -> dict[tuple[str, str, str], tuple[datetime, dict[str, Any]]]:
        """(student, subject, term) -> (when first entered, the mark).

        Kundoluk may send the same term mark under several mark ids: the newest
        entry is the mark, the earliest says when it was entered.
        """
        finals: dict[tuple[str, str, str], tuple[datetime, Stamp, dict[str, Any]]] = {}
        for mark_id, mark in self.live_marks.items():
            if mark["kind"] not in FINAL_KINDS or not mark.get("term_id"):
                continue
            entity = self.facts.marks[mark_id]
            assert entity.stamp is not None and entity.first_at is not None
            key = (mark["student_id"], mark["subject_id"], mark["term_id"])
            known = finals.get(key)
            if known is None:
                finals[key] = (entity.first_at, entity.stamp, mark)
            else:
                newest = (entity.stamp, mark) if entity.stamp > known[1] else (known[1], known[2])
                finals[key] = (min(known[0], entity.first_at), *newest)
        return {key: (first_at, mark) for key, (first_at, _, mark) in finals.items()}

    def term_system(self, class_id: str) -> str:
        """``quarter`` or ``half_year``: how the class's terms are marked.

        Read from the class's plans, else from the term marks it was given; a
        class with neither (and every class of a calendar without half-years)
        is marked by quarters.
        """
        kinds = {t.term_id: t.kind for t in self.calendar.terms}
        counted: Counter[str] = Counter(
            kinds.get(term_id, "") for (cid, _, _, term_id), plan in self.facts.plans.items()
            if cid == class_id and plan.data)
        if not counted:
            counted.update(m["kind"] for m in self.live_marks.values()
                           if m["class_id"] == class_id and m["kind"] in TERM_KINDS)
        return "half_year" if counted["half_year"] > counted["quarter"] else "quarter"

    def _expected(self, term: Term) -> Iterator[tuple[str, str, str, str]]:
        """(student, subject, class, teacher) that must get a mark for ``term``."""
        if term.end > self.today:
            return
        for class_id in sorted(self.facts.classes):
            if self.grades.get(class_id, 0) < self.params.marked_from_grade:
                continue
            system = self.term_system(class_id)
            if term.kind not in ("year", system):
                continue
            own_terms = [t for t in self.calendar.terms if t.kind == system and (
                t.term_id == term.term_id or (term.kind == "year"
                                              and term.start <= t.start <= term.end))]
            members = self.members_on(class_id, term.end)
            for (subject_id, subgroup), teacher_id in sorted(
                    self.taught(class_id, own_terms).items(), key=lambda kv: str(kv[0])):
                for student_id in members:
                    if subgroup is not None and \
                            self.subgroups.get((student_id, subject_id)) != subgroup:
                        continue
                    if self.exempt(student_id, class_id, subject_id, subgroup, term):
                        continue
                    yield student_id, subject_id, class_id, teacher_id

    def taught(self, class_id: str, terms: list[Term]) -> dict[tuple[str, str | None], str]:
        """(subject, subgroup) -> teacher, for every subject the class had in ``terms``:
        planned (КТП) or held (a subject without a plan is still a subject)."""
        taught: dict[tuple[str, str | None], str] = {}
        for (cid, subject_id, subgroup), lessons in self.streams.items():
            if cid != class_id:
                continue
            held = [d for d in lessons if any(t.start <= date.fromisoformat(d["date"]) <= t.end
                                              for t in terms)]
            if held:
                taught[(subject_id, subgroup)] = held[-1]["teacher_id"]
        ids = {t.term_id for t in terms}
        for (cid, subject_id, subgroup, term_id), plan in sorted(
                self.facts.plans.items(), key=lambda kv: str(kv[0])):
            if cid == class_id and term_id in ids and plan.data:
                taught[(subject_id, subgroup)] = plan.data["teacher_id"]
        return taught

    def members_on(self, class_id: str, day: date) -> list[str]:
        """The class's students on ``day``: the newest roster entered by then (before
        the first roster, the first one)."""
        snapshots = self.facts.classes[class_id].snapshots()
        if not snapshots:
            return []
        chosen = snapshots[0][1]
        for entered, students in snapshots:
            if self.calendar.local_date(entered) <= day:
                chosen = students
        return list(chosen)

    def exempt(self, student_id: str, class_id: str, subject_id: str, subgroup: str | None,
                term: Term) -> bool:
        """Exempt for the term: exemptions cover every lesson of the subject held in it
        (the whole term, if none was held)."""
        periods = [(date.fromisoformat(start), date.fromisoformat(end))
                   for (student, subject, start, end), exemption in self.facts.exemptions.items()
                   if (student, subject) == (student_id, subject_id) and exemption.live]
        if not periods:
            return False
        held = [date.fromisoformat(d["date"])
                for d in self.streams.get((class_id, subject_id, subgroup), [])
                if term.start <= date.fromisoformat(d["date"]) <= term.end]
        if not held:
            return any(start <= term.start and end >= term.end for start, end in periods)
        return all(any(start <= day <= end for start, end in periods) for day in held)

    def program(self) -> Iterator[Finding]:
        today = self.today
        for (class_id, subject_id, subgroup, term_id), plan in sorted(
                self.facts.plans.items(), key=lambda kv: str(kv[0])):
            term = next((t for t in self.calendar.terms if t.term_id == term_id), None)
            if term is None or plan.data is None or term.start >= today:
                continue
            until = min(today - timedelta(days=1), term.end)
            planned = sum(1 for p in plan.data["lessons"]
                          if date.fromisoformat(p["planned_date"]) <= until)
            held = sum(1 for d in self.streams.get((class_id, subject_id, subgroup), [])
                       if term.start <= date.fromisoformat(d["date"]) <= until)
            if planned - held >= self.params.program_lag_lessons:
                yield Finding("program.behind_plan", date=until, class_id=class_id,
                              subject_id=subject_id, subgroup=subgroup,
                              teacher_id=plan.data["teacher_id"], term_id=term_id,
                              evidence={"planned": planned, "held": held})

    def absences(self) -> Iterator[Finding]:
        calendar = self.calendar
        for lesson_id, lesson in sorted(self.live_lessons.items()):
            sheet = self.facts.attendance.get(lesson_id)
            if sheet is None or sheet.data is None or lesson.data is None:
                continue
            day = date.fromisoformat(lesson.data["date"])
            due = calendar.school_days_after(day, self.params.absence_reason_days)
            deadline = calendar.deadline(day, due)
            for absence in sheet.data.get("absent", []):
                student_id = absence["student_id"]
                given = sheet.first_reason_at.get(student_id) if absence.get("reason") else None
                if late_or_missing(given, deadline, self.now):
                    yield Finding("absence.reason_missing", date=day,
                                  class_id=lesson.data["class_id"],
                                  subject_id=lesson.data["subject_id"],
                                  teacher_id=lesson.data["teacher_id"], student_id=student_id,
                                  lesson_id=lesson_id, evidence=_times(given, deadline))

    def personal_data(self) -> Iterator[Finding]:
        calendar = self.calendar
        half_year = self.params.personal_data_period == "half_year"
        for term, accepted in self._personal_data_periods():
            deadline = calendar.deadline(term.end, term.end + timedelta(
                days=self.params.personal_data_days))
            # «по окончании каждой четверти»: a check entered before the quarter's
            # last day is not the check of that quarter.
            opens = datetime.combine(term.end, time(0, 0), tzinfo=calendar.zone)
            for class_id, roster in sorted(self.facts.classes.items()):
                verified = min((at for term_id in accepted
                                for at in self.facts.verified.get((class_id, term_id), [])
                                if at >= opens), default=None)
                if late_or_missing(verified, deadline, self.now):
                    yield Finding("personal_data.unverified", date=term.end, class_id=class_id,
                                  teacher_id=(roster.data or {}).get("homeroom_teacher_id"),
                                  term_id=term.term_id, evidence={
                                      **_times(verified, deadline),
                                      "period_ended": "полугодия, закончившегося" if half_year
                                      else "четверти, закончившейся"})

    def _personal_data_periods(self) -> list[tuple[Term, set[str]]]:
        """The periods personal data are checked after, each with the term ids a check
        may name: every quarter; or, «не реже одного раза в полгода», every half-year
        (the calendar's half-years, else its 2nd and 4th quarters), where a check entered
        for the quarter that ends the half-year counts too."""
        quarters = [t for t in self.calendar.terms if t.kind == "quarter"]
        if self.params.personal_data_period != "half_year":
            return [(t, {t.term_id}) for t in quarters]
        halves = [t for t in self.calendar.terms if t.kind == "half_year"]
        if not halves:
            halves = [t for t in quarters if t.number in (2, 4)]
        return [(half, {half.term_id} | {q.term_id for q in quarters if q.end == half.end})
                for half in halves]


def homework_notice(calendar: Calendar, entered: datetime | None, day: date,
                    due: date | None, deadline: datetime) -> timedelta | None:
    """Clause 3.7: how long before the day of the stream's next lesson (``due``) the
    homework of a lesson on ``day`` was posted; None when that is not judged: no
    homework yet, homework entered late (``homework.late``'s), no later lesson yet, or
    an outage of Kundoluk that day (the teacher could not post it earlier)."""
    if entered is None or entered > deadline or due is None:
        return None
    day_start = datetime.combine(day, time(0, 0), tzinfo=calendar.zone)
    if any(started <= entered and ended >= day_start for started, ended in calendar.outages):
        return None
    return datetime.combine(due, time(0, 0), tzinfo=calendar.zone) - entered


def next_lesson_days(lessons: list[dict[str, Any]]) -> dict[str, date]:
    """lesson id -> the day of the next lesson on a later day, of one stream's lessons
    (class, subject, subgroup) in timetable order."""
    following: dict[str, date] = {}
    later: date | None = None
    for index in range(len(lessons) - 1, -1, -1):
        data = lessons[index]
        day = date.fromisoformat(data["date"])
        if index + 1 < len(lessons) and lessons[index + 1]["date"] > data["date"]:
            later = date.fromisoformat(lessons[index + 1]["date"])
        if later is not None and later > day:
            following[data["lesson_id"]] = later
    return following


def sets_homework(lesson: dict[str, Any]) -> bool:
    """The lesson sets homework: some text, and not one saying none was set."""
    text = (lesson.get("homework") or "").strip()
    return bool(text) and not NO_HOMEWORK.match(text)


def daily_homework(lessons: list[dict[str, Any]]
                   ) -> Iterator[tuple[date, int, int, list[str]]]:
    """Per day of a class's lessons: (day, estimated minutes of the homework set that day,
    homework set without an estimate, the lessons setting it). A subject taught in
    subgroups counts with its largest subgroup's minutes."""
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for lesson in lessons:
        if sets_homework(lesson):
            by_day[lesson["date"]].append(lesson)
    for day, items in sorted(by_day.items()):
        whole = sum(int(d.get("homework_minutes") or 0) for d in items
                    if d.get("subgroup") is None)
        grouped: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for d in items:
            if d.get("subgroup") is not None:
                grouped[d["subject_id"]][d["subgroup"]] += int(d.get("homework_minutes") or 0)
        minutes = whole + sum(max(groups.values()) for groups in grouped.values())
        unestimated = sum(1 for d in items if d.get("homework_minutes") is None)
        yield date.fromisoformat(day), minutes, unestimated, [d["lesson_id"] for d in items]


def visit_rows(facts: SchoolFacts, days: int) -> list[dict[str, Any]]:
    """Per student of each class Kundoluk reports visits for (clause 4.3): days since
    the student's, and their parents', last visit, counted to the newest reported day
    (from the first reported day when they never came), and who is behind."""
    reported_to: dict[str, date] = {}
    reported_from: dict[str, date] = {}
    for reported in facts.visits.values():
        if reported.last_reported and reported.first_reported:
            cid = reported.class_id
            reported_to[cid] = max(reported_to.get(cid, reported.last_reported),
                                   reported.last_reported)
            reported_from[cid] = min(reported_from.get(cid, reported.first_reported),
                                     reported.first_reported)
    rows: list[dict[str, Any]] = []
    for class_id, roster in sorted(facts.classes.items()):
        if class_id not in reported_to or roster.data is None:
            continue
        until, since = reported_to[class_id], reported_from[class_id]
        for student in roster.data.get("students", []):
            sid = student["student_id"]
            visits = facts.visits.get(sid)
            student_days = _idle(visits.last_student_visit if visits else None, since, until)
            parent_days = _idle(visits.last_parent_visit if visits else None, since, until)
            behind = [who for who, idle_days in (("ученик", student_days),
                                                  ("родители", parent_days))
                      if idle_days >= days]
            lasts = [last for who, last in (
                ("ученик", visits.last_student_visit if visits else None),
                ("родители", visits.last_parent_visit if visits else None)) if who in behind]
            idle_since = since if any(last is None for last in lasts) or not lasts else \
                max(last for last in lasts if last is not None) + timedelta(days=1)
            rows.append({"class_id": class_id, "student_id": sid, "idle_since": idle_since,
                         "reported_from": since,
                         "full_name": student.get("full_name", ""),
                         "class_teacher_id": roster.data.get("homeroom_teacher_id"),
                         "reported_to": until,
                         "last_student_visit": visits.last_student_visit if visits else None,
                         "last_parent_visit": visits.last_parent_visit if visits else None,
                         "student_days": student_days, "parent_days": parent_days,
                         "days": max(student_days if "ученик" in behind else 0,
                                     parent_days if "родители" in behind else 0),
                         "who": " и ".join(behind)})
    return rows


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _idle(last: date | None, since: date, until: date) -> int:
    """Days without a visit up to ``until``: since the last one, or all reported days."""
    return (until - last).days if last else (until - since).days + 1


def _timetable_order(lesson: dict[str, Any]) -> tuple[str, int, str]:
    return (lesson["date"], lesson["period"], lesson["lesson_id"])


def _times(entered: datetime | None, deadline: datetime) -> dict[str, Any]:
    return {"entered_at": entered.isoformat() if entered else None,
            "deadline": deadline.isoformat()}


#: Which fields tell two findings of a rule apart (the rest is description).
_IDENTITY = {
    "absence.reason_missing": ("lesson_id", "student_id"),
    "marks.density.low": ("class_id", "subject_id", "subgroup", "date"),
    "program.behind_plan": ("class_id", "subject_id", "subgroup", "term_id"),
    "personal_data.unverified": ("class_id", "term_id"),
    "homework.load.excessive": ("class_id", "date"),
    "journal.not_visited": ("class_id", "student_id"),
}


def identity(finding: Finding) -> str:
    """The stable key of a finding: the same cause gives the same key at every sweep."""
    rule = finding.rule
    if rule in _IDENTITY:
        fields = _IDENTITY[rule]
    elif rule.startswith("mark."):
        fields = ("mark_id",)
    elif rule.startswith("final_mark."):
        fields = ("student_id", "subject_id", "term_id")
    else:
        fields = ("lesson_id",)
    values = [getattr(finding, name) for name in fields]
    return "|".join([rule, *("" if v is None else str(v) for v in values)])
