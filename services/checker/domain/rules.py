"""The rule catalog v1, evaluated over a school's facts at a moment (pure).

``evaluate(facts, now, params)`` returns every finding that holds at ``now``.
It depends only on the facts (which do not depend on the order events came
in) and on ``now``, so replaying the same events in any order gives the same
findings; a finding whose cause the newest evidence removed is simply no
longer returned, and the service withdraws it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.checker.domain.facts import SchoolFacts, Term

VALID_MARKS = ("2", "3", "4", "5")
WRITTEN_KINDS = frozenset({"written", "test", "control", "dictation", "essay", "lab",
                           "practical", "project"})
FINAL_KINDS = frozenset({"quarter", "half_year", "year"})
ASSESSMENT_WORDS = {
    "control": ("контрольн",), "test": ("тест", "test"), "lab": ("лаборатор",),
    "practical": ("практическ",), "dictation": ("диктант",),
    "essay": ("сочинени", "изложени", "essay"),
}
PLACEHOLDER = re.compile(r"^[\s\-–—.…\"'〃«»=]*$|^(повтор|то же|тоже|см\.?\s*выше)[\s.!]*$",
                         re.IGNORECASE)
ABBREVIATION = re.compile(
    r"(?<!\w)(к/р|л/р|п/р|с/р|пр\.\s*р\.|контр\.|сам\.\s*раб\.|упр\.|стр\.|повт\.|"
    r"дом\.\s*зад\.?|лаб\.|практ\.|зад\.)", re.IGNORECASE)
KYRGYZ_ONLY = re.compile(r"[ңөүҢӨҮ]")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN = re.compile(r"[A-Za-z]")


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
    language_subjects: frozenset[str] = frozenset({"english", "kyrgyz_lang", "german", "french"})

    @classmethod
    def from_values(cls, values: dict[str, int]) -> Parameters:
        """A school's parameters: its own values over the catalog's defaults."""
        known = {name: int(value) for name, value in values.items()
                 if name in cls.__dataclass_fields__ and name != "language_subjects"}
        return cls(**known)  # type: ignore[arg-type]


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


def evaluate(facts: SchoolFacts, now: datetime, params: Parameters = Parameters()
             ) -> list[Finding]:
    """Every finding that holds for the school at ``now``."""
    if facts.calendar.data is None:
        return []  # nothing can be judged without the school's calendar
    context = _Context(facts, now, params)
    findings: list[Finding] = []
    for check in (context.lesson_rules, context.mark_rules, context.density, context.final_marks,
                  context.program, context.absences, context.personal_data):
        findings.extend(check())
    return findings


class _Context:
    def __init__(self, facts: SchoolFacts, now: datetime, params: Parameters) -> None:
        self.facts, self.now, self.params = facts, now, params
        self.calendar = Calendar(facts, params)
        self.language = (facts.calendar.data or {}).get("language_of_instruction", "ru")
        self.grades = {cid: c.data["grade"] for cid, c in facts.classes.items() if c.data}
        self.subgroups: dict[tuple[str, str], str] = {}
        for roster in facts.classes.values():
            for student in (roster.data or {}).get("students", []):
                for subject_id, group in student.get("subgroups", {}).items():
                    self.subgroups[(student["student_id"], subject_id)] = str(group)
        self.live_lessons = {lid: item for lid, item in facts.lessons.items() if item.live}
        self.live_marks = {mid: m.data for mid, m in facts.marks.items()
                           if m.live and m.data is not None}
        self.current_marks = [m for m in self.live_marks.values() if m["kind"] == "current"]
        self.marks_by_lesson: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.marks_by_student: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        #: current marks given outside any lesson, by class and subject
        self.loose_marks: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for mark in self.current_marks:
            if mark.get("lesson_id"):
                self.marks_by_lesson[mark["lesson_id"]].append(mark)
            else:
                self.loose_marks[(mark["class_id"], mark["subject_id"])].append(mark)
            self.marks_by_student[(mark["student_id"], mark["subject_id"])].append(mark)
        self.lesson_days: set[tuple[str, str, date]] = set()
        self.streams: dict[tuple[str, str, str | None], list[dict[str, Any]]] = defaultdict(list)
        for lesson in self.live_lessons.values():
            data = lesson.data or {}
            self.lesson_days.add((data["class_id"], data["subject_id"],
                                  date.fromisoformat(data["date"])))
            self.streams[(data["class_id"], data["subject_id"], data.get("subgroup"))].append(data)
        for items in self.streams.values():
            items.sort(key=lambda d: (d["date"], d["period"], d["lesson_id"]))

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
            if late_or_missing(lesson.first_topic_at, deadline, self.now):
                yield Finding("lesson.topic.late", **base,
                              evidence=_times(lesson.first_topic_at, deadline))
            if late_or_missing(lesson.first_homework_at, deadline, self.now):
                yield Finding("homework.late", **base,
                              evidence=_times(lesson.first_homework_at, deadline))
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
                term = calendar.term_of(day)
                plan = self.facts.plans.get((data["class_id"], data["subject_id"],
                                             data["subgroup"], term.term_id if term else ""))
                if plan and plan.data and plan.data["teacher_id"] != data["teacher_id"]:
                    yield Finding("subgroup.wrong_teacher", **base,
                                  evidence={"plan_teacher_id": plan.data["teacher_id"]})
            topic = (data.get("topic") or "").strip()
            if topic:
                same_day[(data["class_id"], data["subject_id"], data.get("subgroup"),
                          data["date"])].append(data)
                yield from self._topic(topic, data, base, params)
        for lessons in same_day.values():
            lessons.sort(key=lambda d: (d["period"], d["lesson_id"]))
            seen: set[str] = set()
            for data in lessons:
                normal = " ".join(data["topic"].lower().split())
                if normal in seen:
                    yield Finding("topic.double_lesson_duplicate",
                                  date=date.fromisoformat(data["date"]),
                                  class_id=data["class_id"], subject_id=data["subject_id"],
                                  subgroup=data.get("subgroup"), teacher_id=data["teacher_id"],
                                  lesson_id=data["lesson_id"], evidence={"topic": data["topic"]})
                seen.add(normal)

    def _topic(self, topic: str, data: dict[str, Any], base: dict[str, Any],
               params: Parameters) -> Iterator[Finding]:
        if PLACEHOLDER.match(topic):
            yield Finding("topic.placeholder", **base, evidence={"topic": topic})
            return
        if ABBREVIATION.search(topic):
            yield Finding("topic.abbreviation", **base, evidence={"topic": topic})
        if self.language == "ru" and data["subject_id"] not in params.language_subjects:
            cyrillic, latin = len(CYRILLIC.findall(topic)), len(LATIN.findall(topic))
            if not cyrillic or KYRGYZ_ONLY.search(topic) or latin > cyrillic:
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
        for mark_id, mark in sorted(self.live_marks.items()):
            if mark["kind"] != "current":
                continue
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
        if self.now > calendar.end_of(window_end):
            followed = any(other is not mark and day <= date.fromisoformat(other["date"])
                           <= window_end
                           for other in self.marks_by_student[(mark["student_id"],
                                                               mark["subject_id"])])
            if not followed:
                yield Finding("mark.failing.no_followup", **base,
                              evidence={"followup_until": window_end.isoformat()})
        lesson_id = mark.get("lesson_id")
        if lesson_id:
            missed = self._absences_before(lesson_id, mark["student_id"], mark["subject_id"])
            if missed >= params.long_absence_lessons:
                yield Finding("mark.failing.after_absence", **base,
                              evidence={"missed_lessons": missed})

    def _absences_before(self, lesson_id: str, student_id: str, subject_id: str) -> int:
        lesson = self.live_lessons.get(lesson_id)
        if lesson is None or lesson.data is None:
            return 0
        data = lesson.data
        stream = self.streams[(data["class_id"], subject_id, data.get("subgroup"))]
        position = next((i for i, d in enumerate(stream) if d["lesson_id"] == lesson_id), 0)
        missed = 0
        for earlier in reversed(stream[:position]):
            sheet = self.facts.attendance.get(earlier["lesson_id"])
            absent = {a["student_id"] for a in ((sheet.data or {}).get("absent", [])
                                                if sheet else [])}
            if student_id not in absent:
                break
            missed += 1
        return missed

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
        finals: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        for mark_id, mark in self.live_marks.items():
            if mark["kind"] in FINAL_KINDS and mark.get("term_id"):
                finals[(mark["student_id"], mark["subject_id"], mark["term_id"])] = (mark_id,
                                                                                       mark)
        for term in calendar.terms:
            deadline = calendar.deadline(term.end, term.end + timedelta(
                days=params.final_mark_days))
            for student_id, subject_id, class_id, teacher_id in self._expected(term):
                found = finals.get((student_id, subject_id, term.term_id))
                base: dict[str, Any] = dict(date=term.end, class_id=class_id, subject_id=subject_id,
                            teacher_id=teacher_id, student_id=student_id, term_id=term.term_id)
                first_at = self.facts.marks[found[0]].first_at if found else None
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

    def _expected(self, term: Term) -> Iterator[tuple[str, str, str, str]]:
        """(student, subject, class, teacher) that must get a mark for ``term``."""
        if term.end > self.calendar.local_date(self.now):
            return
        plan_terms = {term.term_id} if term.kind != "year" else {
            t.term_id for t in self.calendar.terms if t.kind == "quarter"}
        taught: dict[tuple[str, str, str | None], str] = {}
        for (class_id, subject_id, subgroup, term_id), plan in sorted(
                self.facts.plans.items(), key=lambda kv: str(kv[0])):
            if term_id in plan_terms and plan.data:
                taught[(class_id, subject_id, subgroup)] = plan.data["teacher_id"]
        for (class_id, subject_id, subgroup), teacher_id in sorted(taught.items(),
                                                                   key=lambda kv: str(kv[0])):
            if self.grades.get(class_id, 0) < self.params.marked_from_grade:
                continue
            roster = self.facts.classes[class_id].data or {}
            for student in roster.get("students", []):
                student_id = student["student_id"]
                if subgroup is not None and \
                        self.subgroups.get((student_id, subject_id)) != subgroup:
                    continue
                if self._exempt(student_id, subject_id, term):
                    continue
                yield student_id, subject_id, class_id, teacher_id

    def _exempt(self, student_id: str, subject_id: str, term: Term) -> bool:
        for (student, subject, start, end), exemption in self.facts.exemptions.items():
            if (student, subject) == (student_id, subject_id) and exemption.live and \
                    date.fromisoformat(start) <= term.end and date.fromisoformat(end) >= term.start:
                return True
        return False

    def program(self) -> Iterator[Finding]:
        today = self.calendar.local_date(self.now)
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
        for term in calendar.terms:
            if term.kind != "quarter":
                continue
            deadline = calendar.deadline(term.end, term.end + timedelta(
                days=self.params.personal_data_days))
            for class_id, roster in sorted(self.facts.classes.items()):
                verified = self.facts.verified.get((class_id, term.term_id))
                if late_or_missing(verified, deadline, self.now):
                    yield Finding("personal_data.unverified", date=term.end, class_id=class_id,
                                  teacher_id=(roster.data or {}).get("homeroom_teacher_id"),
                                  term_id=term.term_id, evidence=_times(verified, deadline))


def _times(entered: datetime | None, deadline: datetime) -> dict[str, Any]:
    return {"entered_at": entered.isoformat() if entered else None,
            "deadline": deadline.isoformat()}


#: Which fields tell two findings of a rule apart (the rest is description).
_IDENTITY = {
    "absence.reason_missing": ("lesson_id", "student_id"),
    "marks.density.low": ("class_id", "subject_id", "subgroup", "date"),
    "program.behind_plan": ("class_id", "subject_id", "subgroup", "term_id"),
    "personal_data.unverified": ("class_id", "term_id"),
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
