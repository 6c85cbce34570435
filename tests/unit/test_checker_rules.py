"""The checker's rules on hand-made journals: deadlines, holidays, outages, corrections."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import Finding, evaluate

ZONE = ZoneInfo("Asia/Bishkek")
TERM = {"id": "q1", "kind": "quarter", "number": 1, "start": "2026-09-01", "end": "2026-10-31"}


def at(day: str, clock: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZONE)


class Journal:
    """A tiny school: one class 5a, math taught by t1, subgroup English by t2/t3."""

    def __init__(self, holidays: tuple[str, ...] = ()) -> None:
        self.facts = SchoolFacts("s1")
        self._ids = itertools.count(1)
        self.add("school.calendar", at("2026-08-25"), {
            "academic_year": "2026-2027", "timezone": "Asia/Bishkek",
            "language_of_instruction": "ru", "weekend": ["sun"], "terms": [TERM],
            "holidays": list(holidays)})
        self.add("class.roster", at("2026-08-25"), {
            "class_id": "5a", "academic_year": "2026-2027", "grade": 5,
            "homeroom_teacher_id": "t1", "students": [
                {"student_id": f"st{i}", "full_name": f"Ученик {i}",
                 "subgroups": {"english": "1" if i < 3 else "2"}} for i in range(1, 5)]})
        for subgroup, teacher in (("1", "t2"), ("2", "t3")):
            self.add("subject.plan", at("2026-08-28"), {
                "class_id": "5a", "subject_id": "english", "subject_name": "Английский язык",
                "subgroup": subgroup, "teacher_id": teacher, "term_id": "q1", "lessons": []})

    def add(self, event_type: str, when: datetime, data: dict[str, Any]) -> None:
        self.facts.apply(f"e{next(self._ids)}", event_type, when, data)

    def lesson(self, day: str, *, entered: datetime | None = None, period: int = 1,
               lesson_id: str | None = None, **fields: Any) -> str:
        lesson_id = lesson_id or f"L{day}-{period}"
        data = {"lesson_id": lesson_id, "class_id": "5a", "subgroup": None,
                "subject_id": "math", "date": day, "period": period, "teacher_id": "t1",
                "scheduled_teacher_id": "t1", "is_substitution": False,
                "topic": "Натуральные числа", "homework": "№ 1", **fields}
        self.add("lesson.recorded", entered or at(day, "15:00"), data)
        self.add("attendance.recorded", at(day, "08:10"),
                 {"lesson_id": lesson_id, "absent": [], "late": []})
        return lesson_id

    def mark(self, day: str, value: str, *, student: str = "st1", mark_id: str | None = None,
             entered: datetime | None = None, lesson_id: str | None = None,
             work_type: str | None = "oral") -> str:
        mark_id = mark_id or f"M{day}-{student}-{value}"
        self.add("mark.recorded", entered or at(day, "15:00"), {
            "mark_id": mark_id, "student_id": student, "class_id": "5a", "subject_id": "math",
            "teacher_id": "t1", "lesson_id": lesson_id or f"L{day}-1", "date": day,
            "value": value, "work_type": work_type, "kind": "current", "term_id": None})
        return mark_id

    def findings(self, now: datetime, rule: str) -> list[Finding]:
        return [f for f in evaluate(self.facts, now) if f.rule == rule]


NOW = at("2026-10-15")


@pytest.mark.parametrize(("entered", "late"), [("23:59", False), ("00:00+", True)])
def test_topic_deadline_is_the_end_of_the_lesson_day(entered: str, late: bool) -> None:
    journal = Journal()
    moment = at("2026-09-02", "23:59") if entered == "23:59" else at("2026-09-03", "00:00") + \
        timedelta(seconds=1)
    journal.lesson("2026-09-02", entered=at("2026-09-02", "15:00"), topic="")
    journal.lesson("2026-09-02", entered=moment)  # the topic comes with this later entry
    assert bool(journal.findings(NOW, "lesson.topic.late")) is late
    assert journal.findings(NOW, "homework.late") == []


def test_a_topic_still_empty_is_late_only_once_the_day_is_over() -> None:
    journal = Journal()
    journal.lesson("2026-09-02", topic="")
    assert journal.findings(at("2026-09-02", "23:00"), "lesson.topic.late") == []
    assert journal.findings(at("2026-09-03", "00:01"), "lesson.topic.late")


def test_an_outage_moves_the_deadline_past_its_end_plus_the_grace() -> None:
    journal = Journal()
    journal.add("platform.outage", at("2026-09-02", "21:05"), {
        "started_at": at("2026-09-02", "13:00").isoformat(),
        "ended_at": at("2026-09-02", "21:00").isoformat()})
    journal.lesson("2026-09-02", topic="")
    journal.lesson("2026-09-02", entered=at("2026-09-05", "20:00"))
    assert journal.findings(NOW, "lesson.topic.late") == []  # within 21:00 + 3 days
    journal.lesson("2026-09-03", topic="")
    journal.lesson("2026-09-03", entered=at("2026-09-04", "09:00"))
    assert [f.lesson_id for f in journal.findings(NOW, "lesson.topic.late")] == \
        ["L2026-09-03-1"]  # an outage the day before does not cover it


@pytest.mark.parametrize(("holidays", "followup", "expected"), [
    ((), "2026-09-08", False),                  # Fri → Sat, Mon, Tue: in time
    ((), "2026-09-09", True),                   # Wednesday is the 4th school day
    (("2026-09-07",), "2026-09-09", False),     # Monday a holiday: Wednesday counts
])
def test_a_fail_needs_a_further_mark_within_three_school_days(
    holidays: tuple[str, ...], followup: str, expected: bool
) -> None:
    journal = Journal(holidays)
    journal.lesson("2026-09-04")
    journal.mark("2026-09-04", "2")
    journal.lesson(followup)
    journal.mark(followup, "4")
    assert bool(journal.findings(NOW, "mark.failing.no_followup")) is expected


def test_a_fail_on_the_first_school_day_of_the_term() -> None:
    journal = Journal()
    journal.lesson("2026-09-01")
    journal.mark("2026-09-01", "2")
    journal.lesson("2026-09-02")
    journal.mark("2026-09-02", "3")
    assert journal.findings(NOW, "mark.failing.first_day_of_term")
    assert journal.findings(NOW, "mark.failing.no_followup") == []


def test_substitutions_recorded_late_or_not_at_all() -> None:
    journal = Journal()
    journal.lesson("2026-09-02", teacher_id="t9")  # another teacher, not flagged
    journal.lesson("2026-09-03", teacher_id="t9", is_substitution=True)
    journal.lesson("2026-09-04", teacher_id="t9")
    journal.lesson("2026-09-04", teacher_id="t9", is_substitution=True,
                   entered=at("2026-09-05", "10:00"))  # flagged the day after
    found = {f.lesson_id for f in journal.findings(NOW, "substitution.unrecorded")}
    assert found == {"L2026-09-02-1", "L2026-09-04-1"}


def test_subgroup_lessons_belong_to_the_subgroup_teacher_substitutions_aside() -> None:
    journal = Journal()
    journal.lesson("2026-09-02", subject_id="english", subgroup="1", teacher_id="t3",
                   scheduled_teacher_id="t3", lesson_id="E1", topic="My family")
    journal.lesson("2026-09-03", subject_id="english", subgroup="1", teacher_id="t3",
                   scheduled_teacher_id="t2", is_substitution=True, lesson_id="E2",
                   topic="My school")
    assert [f.lesson_id for f in journal.findings(NOW, "subgroup.wrong_teacher")] == ["E1"]


def test_a_deleted_mark_withdraws_its_finding_whatever_the_arrival_order() -> None:
    journal = Journal()
    journal.lesson("2026-09-02")
    mark_id = journal.mark("2026-09-02", "1")
    assert journal.findings(NOW, "mark.value.invalid")
    journal.add("mark.deleted", at("2026-09-02", "16:00"), {"mark_id": mark_id})
    assert journal.findings(NOW, "mark.value.invalid") == []
    late_news = Journal()
    late_news.lesson("2026-09-02")
    late_news.add("mark.deleted", at("2026-09-02", "16:00"), {"mark_id": "M"})
    late_news.mark("2026-09-02", "1", mark_id="M", entered=at("2026-09-02", "15:00"))
    assert late_news.findings(NOW, "mark.value.invalid") == []  # deletion is newer


def test_a_corrected_topic_replaces_the_placeholder() -> None:
    journal = Journal()
    journal.lesson("2026-09-02", topic="повтор")
    assert journal.findings(NOW, "topic.placeholder")
    journal.lesson("2026-09-02", topic="Сложение дробей", entered=at("2026-09-02", "16:00"))
    assert journal.findings(NOW, "topic.placeholder") == []
    assert journal.findings(NOW, "lesson.topic.late") == []


@pytest.mark.parametrize(("topic", "rule"), [
    ("—", "topic.placeholder"), ("то же", "topic.placeholder"), ("...", "topic.placeholder"),
    ("Дроби, сам. раб.", "topic.abbreviation"), ("К/р по теме дроби", "topic.abbreviation"),
    ("Naturalnye chisla", "topic.language"), ("Сандардын түрлөрү", "topic.language"),
])
def test_topic_wording_rules(topic: str, rule: str) -> None:
    journal = Journal()
    journal.lesson("2026-09-02", topic=topic)
    assert [f.rule for f in evaluate(journal.facts, NOW) if f.rule.startswith("topic.")] == [rule]


def test_language_subjects_are_exempt_and_graded_work_must_be_named() -> None:
    journal = Journal()
    journal.lesson("2026-09-02", subject_id="english", subgroup="1", teacher_id="t2",
                   scheduled_teacher_id="t2", lesson_id="E1", topic="Past Simple")
    journal.lesson("2026-09-03", topic="Дроби")
    journal.mark("2026-09-03", "4", work_type="control")
    journal.lesson("2026-09-04", topic="Контрольная работа по теме «Дроби»")
    journal.mark("2026-09-04", "5", work_type="control")
    assert journal.findings(NOW, "topic.language") == []
    assert [f.lesson_id for f in journal.findings(NOW, "topic.assessment_unnamed")] == \
        ["L2026-09-03-1"]


def test_double_lessons_must_not_repeat_a_topic() -> None:
    journal = Journal()
    journal.lesson("2026-09-02", period=1)
    journal.lesson("2026-09-02", period=2)
    assert [f.lesson_id for f in journal.findings(NOW, "topic.double_lesson_duplicate")] == \
        ["L2026-09-02-2"]


def test_written_marks_have_a_week_oral_marks_the_day() -> None:
    journal = Journal()
    journal.lesson("2026-09-02")
    journal.mark("2026-09-02", "4", mark_id="W7", work_type="written",
                 entered=at("2026-09-09", "23:00"))
    journal.mark("2026-09-02", "4", mark_id="W8", work_type="written",
                 entered=at("2026-09-10", "09:00"))
    journal.mark("2026-09-02", "4", mark_id="O1", work_type="oral",
                 entered=at("2026-09-03", "09:00"))
    journal.mark("2026-09-02", "4", mark_id="H1", work_type="homework",
                 entered=at("2026-09-20", "09:00"))
    found = {f.mark_id: f.evidence["severity"] for f in journal.findings(NOW, "mark.late")}
    assert found == {"W8": "violation", "O1": "warning"}


def test_nothing_is_judged_without_the_calendar() -> None:
    facts = SchoolFacts("s1")
    facts.apply("e1", "lesson.recorded", at("2026-09-02"), {
        "lesson_id": "L", "class_id": "5a", "subject_id": "math", "date": "2026-09-02",
        "period": 1, "teacher_id": "t1", "topic": "", "homework": ""})
    assert evaluate(facts, NOW) == []


def test_absence_reasons_within_three_school_days() -> None:
    journal = Journal()
    journal.lesson("2026-09-04")  # Friday
    sheet = {"lesson_id": "L2026-09-04-1", "late": []}
    journal.add("attendance.recorded", at("2026-09-04", "08:10"),
                {**sheet, "absent": [{"student_id": "st1", "reason": None},
                                     {"student_id": "st2", "reason": None}]})
    journal.add("attendance.recorded", at("2026-09-08", "10:00"),  # Tuesday: 3rd school day
                {**sheet, "absent": [{"student_id": "st1", "reason": "illness"},
                                     {"student_id": "st2", "reason": None}]})
    found = [(f.lesson_id, f.student_id) for f in journal.findings(NOW, "absence.reason_missing")]
    assert found == [("L2026-09-04-1", "st2")]
    before_the_deadline = at("2026-09-08", "23:00")  # Sat, Mon, Tue: the 3rd school day
    assert journal.findings(before_the_deadline, "absence.reason_missing") == []


def test_the_checker_defaults_are_the_catalog_defaults() -> None:
    from services.checker.domain.rules import Parameters
    from shared.events.rules import PARAMETER_DEFAULTS, parameter_errors

    defaults = Parameters()
    assert {name: getattr(defaults, name) for name in PARAMETER_DEFAULTS} == PARAMETER_DEFAULTS
    assert Parameters.from_values({"program_lag_lessons": 5}).program_lag_lessons == 5
    assert parameter_errors({"program_lag_lessons": 5}) == {}
    assert set(parameter_errors({"x": 1, "final_mark_days": -1, "oral_mark_days": True})) == \
        {"x", "final_mark_days", "oral_mark_days"}
    assert parameter_errors([]) == {"parameters": ["must be a non-empty object of parameter "
                                                   "values"]}


def test_work_type_missing_and_a_mark_on_a_day_without_the_lesson() -> None:
    journal = Journal()
    journal.lesson("2026-09-02")
    journal.mark("2026-09-02", "4", mark_id="A", work_type=None)
    journal.mark("2026-09-03", "4", mark_id="B", lesson_id="none")  # no math on the 3rd
    assert [f.mark_id for f in journal.findings(NOW, "mark.work_type.missing")] == ["A"]
    assert [f.mark_id for f in journal.findings(NOW, "mark.date.not_lesson")] == ["B"]


def test_density_is_judged_per_two_week_window_once_it_is_over() -> None:
    journal = Journal()
    for day in ("2026-09-01", "2026-09-02"):  # window 1: 1 mark a lesson
        journal.lesson(day)
        journal.mark(day, "4")
    for day in ("2026-09-15", "2026-09-16"):  # window 2: 3 marks a lesson
        journal.lesson(day)
        for student in ("st1", "st2", "st3"):
            journal.mark(day, "5", student=student)
    found = journal.findings(NOW, "marks.density.low")
    assert [(f.date.isoformat(), f.evidence["marks"]) for f in found] == [("2026-09-01", 2)]
    assert journal.findings(at("2026-09-14", "12:00"), "marks.density.low") == []  # not over


def test_a_fail_right_after_three_missed_lessons() -> None:
    journal = Journal()
    days = ("2026-09-07", "2026-09-08", "2026-09-09", "2026-09-10", "2026-09-11")
    for day in days:
        journal.lesson(day)
    for day in days[:3]:  # the sheets, corrected later the same morning
        journal.add("attendance.recorded", at(day, "08:20"), {
            "lesson_id": f"L{day}-1", "late": [],
            "absent": [{"student_id": "st1", "reason": "illness"}]})
    journal.mark(days[3], "2")
    journal.mark(days[4], "4")
    assert [f.date.isoformat() for f in journal.findings(NOW, "mark.failing.after_absence")] \
        == [days[3]]


def _final(journal: Journal, student: str, value: str, entered: datetime) -> None:
    journal.add("mark.recorded", entered, {
        "mark_id": f"F-{student}", "student_id": student, "class_id": "5a",
        "subject_id": "math", "teacher_id": "t1", "lesson_id": None, "date": "2026-10-31",
        "value": value, "work_type": None, "kind": "quarter", "term_id": "q1"})


def test_term_marks_late_insufficient_and_inconsistent() -> None:
    journal = Journal()
    journal.add("subject.plan", at("2026-08-28"), {
        "class_id": "5a", "subject_id": "math", "subject_name": "Математика",
        "subgroup": None, "teacher_id": "t1", "term_id": "q1", "lessons": []})
    for day in ("2026-10-26", "2026-10-27", "2026-10-28"):
        journal.lesson(day)
        for student in ("st1", "st2", "st3"):
            journal.mark(day, "5", student=student)
    journal.mark("2026-10-26", "5", student="st4")  # only one mark
    _final(journal, "st1", "5", at("2026-10-31", "15:00"))      # fine
    _final(journal, "st2", "3", at("2026-11-01", "10:00"))      # mean 5, mark 3
    _final(journal, "st3", "5", at("2026-11-03", "00:01"))      # after 31.10 + 2 days
    _final(journal, "st4", "5", at("2026-10-31", "15:00"))      # one current mark
    later = at("2026-11-20")

    def math(rule: str) -> list[str | None]:
        return [f.student_id for f in journal.findings(later, rule) if f.subject_id == "math"]

    assert math("final_mark.late") == ["st3"]
    assert {f.subject_id for f in journal.findings(later, "final_mark.late")} == \
        {"math", "english"}  # English is planned too, and nobody got a mark
    assert math("final_mark.inconsistent") == ["st2"]
    assert math("final_mark.insufficient_marks") == ["st4"]
    journal.add("exemption.recorded", at("2026-09-01"), {
        "student_id": "st1", "subject_id": "math", "from": "2026-09-01", "to": "2026-12-31",
        "reason": "справка"})
    journal.add("mark.deleted", at("2026-11-05"), {"mark_id": "F-st1"})
    assert "st1" not in math("final_mark.late")  # exempt: no mark expected


def test_program_lag_counts_planned_against_held_lessons() -> None:
    journal = Journal()
    planned = ("2026-09-01", "2026-09-02", "2026-09-03", "2026-09-04")
    journal.add("subject.plan", at("2026-08-28"), {
        "class_id": "5a", "subject_id": "math", "subject_name": "Математика",
        "subgroup": None, "teacher_id": "t1", "term_id": "q1",
        "lessons": [{"number": i + 1, "planned_date": day, "topic": f"Тема {i}"}
                    for i, day in enumerate(planned)]})
    journal.lesson("2026-09-01")
    journal.lesson("2026-09-02")
    assert journal.findings(at("2026-09-04", "10:00"), "program.behind_plan") == []  # lag 1
    lagging = journal.findings(at("2026-09-05", "10:00"), "program.behind_plan")
    assert [(f.evidence["planned"], f.evidence["held"]) for f in lagging] == [(4, 2)]


def test_personal_data_checked_within_a_week_after_the_quarter() -> None:
    journal = Journal()
    assert journal.findings(at("2026-11-07", "23:00"), "personal_data.unverified") == []
    assert journal.findings(at("2026-11-08", "00:01"), "personal_data.unverified")
    journal.add("personal_data.verified", at("2026-11-02", "10:00"),
                {"class_id": "5a", "term_id": "q1", "verified_by": "t1"})
    assert journal.findings(at("2026-11-20"), "personal_data.unverified") == []


def test_every_rule_of_the_catalog_has_a_title_a_deputy_reads() -> None:
    from shared.events.rules import CATALOG, RULE_TITLES

    assert set(RULE_TITLES) == set(CATALOG)
    assert all(title and "." not in title.split()[0] for title in RULE_TITLES.values())
