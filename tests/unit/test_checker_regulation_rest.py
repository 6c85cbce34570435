"""The rest of the regulation (issue 21), from the clauses' words.

- 1.3: the deputy checks «домашних заданий в соответствии возрастным особенностям
  обучающихся, требованиям по содержанию и объёму»: no homework where the school
  sets none (grade 1), a class's daily load within the age norm (grades 2-3 1.5 h,
  4-5 2 h, 6-8 2.5 h, 9-11 3.5 h), judged on the teachers' estimates only.
- 3.7: «Рекомендуется заранее размещать задания, чтобы у обучающихся была возможность
  заблаговременно планировать своё время»: a recommendation, so a warning.
- 4.3: class teachers «осуществляют контроль посещаемости ЭЖ родителями и
  обучающимися» (a rule only when the school switches it on), and check the class
  lists «по окончании каждой четверти» or «не реже одного раза в полгода».

Dates: 2026-09-07 is a Monday, 2026-09-08 a Tuesday, 2026-09-10 a Thursday.
"""

from __future__ import annotations

import random

import pytest

from services.checker.domain.catalog import message, severity_of
from services.checker.domain.rules import Parameters, evaluate
from shared.events.rules import CATALOG, parameter_errors
from shared.events.schemas import validation_errors
from tests.unit.test_checker_regulation import Journal, at

MONDAY, TUESDAY, THURSDAY = "2026-09-07", "2026-09-08", "2026-09-10"
LATER = at("2026-09-20")


# 1.3 homework in a grade where the school sets none -----------------------------------
@pytest.mark.parametrize(("grade", "homework", "params", "flagged"), [
    (1, "Упражнение 5", Parameters(), True),          # sanitary norms: none in grade 1
    (1, "не задано", Parameters(), False),            # an explicit "none" sets nothing
    (1, "Не задано.", Parameters(), False),
    (1, "берилген жок", Parameters(), False),         # the same in Kyrgyz
    (1, "", Parameters(), False),                     # empty is homework.late's business
    (2, "Упражнение 5", Parameters(), False),
    (1, "Упражнение 5", Parameters(homework_from_grade=1), False),  # the school allows it
    (2, "Упражнение 5", Parameters(homework_from_grade=3), True),
])
def test_homework_is_not_set_below_the_schools_first_homework_grade(
        grade: int, homework: str, params: Parameters, flagged: bool) -> None:
    journal = Journal(grade=grade, class_id="1a")
    journal.lesson(MONDAY, homework=homework)
    found = journal.findings(LATER, "homework.grade_not_allowed", params)
    assert [f.lesson_id for f in found] == ([f"L{MONDAY}-1-math"] if flagged else [])
    if flagged:
        assert CATALOG["homework.grade_not_allowed"].severity == "violation"
        assert found[0].teacher_id == "t1"


# 1.3 a class's daily homework load ------------------------------------------------------
def load(journal: Journal, params: Parameters | None = None) -> list[tuple[str, int, int]]:
    return [(f.date.isoformat(), f.evidence["minutes"], f.evidence["unestimated"])
            for f in journal.findings(LATER, "homework.load.excessive", params)]


def test_the_daily_load_may_reach_the_norm_but_not_exceed_it() -> None:
    journal = Journal(grade=5)  # grades 4-5: 2 h = 120 min
    for period, subject in enumerate(("math", "russian", "history"), start=1):
        journal.lesson(MONDAY, period=period, subject=subject, homework_minutes=40)
    assert load(journal) == []
    journal.lesson(MONDAY, period=3, subject="history", homework_minutes=41)
    assert load(journal) == [(MONDAY, 121, 0)]
    finding = journal.findings(LATER, "homework.load.excessive")[0]
    assert finding.class_id == "5a" and finding.teacher_id is None
    assert CATALOG[finding.rule].responsible == "deputy"
    assert message(finding) == ("Общий объём домашних заданий класса за 07.09.2026 (121 мин) "
                                "превышает норму для возраста обучающихся (120 мин).")
    # the teacher corrects the estimate: the finding goes
    journal.lesson(MONDAY, period=3, subject="history", homework_minutes=30,
                   entered=at(MONDAY, "16:00"))
    assert load(journal) == []


@pytest.mark.parametrize(("grade", "minutes", "flagged"), [
    (2, 91, True), (3, 90, False), (4, 121, True), (6, 150, False), (8, 151, True),
    (9, 210, False), (11, 211, True),
])
def test_the_norm_follows_the_grade(grade: int, minutes: int, flagged: bool) -> None:
    journal = Journal(grade=grade)
    journal.lesson(MONDAY, homework_minutes=minutes)
    assert bool(load(journal)) is flagged


def test_the_norms_are_the_schools_parameters() -> None:
    journal = Journal(grade=5)
    journal.lesson(MONDAY, homework_minutes=130)
    assert load(journal) == [(MONDAY, 130, 0)]
    assert load(journal, Parameters(homework_minutes_grades_4_5=150)) == []


def test_days_are_not_added_together_and_no_homework_weighs_nothing() -> None:
    journal = Journal(grade=5)
    journal.lesson(MONDAY, homework_minutes=100)
    journal.lesson(TUESDAY, homework_minutes=100)
    # "не задано" with a stray estimate sets no work
    journal.lesson(TUESDAY, period=2, subject="russian", homework="не задано",
                   homework_minutes=60)
    assert load(journal) == []


def test_homework_without_an_estimate_is_not_guessed_but_counted() -> None:
    journal = Journal(grade=5)
    journal.lesson(MONDAY, subject="math")                      # no estimate
    journal.lesson(MONDAY, period=2, subject="russian")         # no estimate
    assert load(journal) == []  # nothing is known: no finding, whatever the text
    journal.lesson(MONDAY, period=3, subject="history", homework_minutes=125)
    assert load(journal) == [(MONDAY, 125, 2)]


def test_a_subject_in_subgroups_counts_once_for_a_student() -> None:
    journal = Journal(grade=5)
    journal.lesson(MONDAY, homework_minutes=90)
    journal.lesson(MONDAY, period=2, subject="english", subgroup="1", homework_minutes=25)
    journal.lesson(MONDAY, period=2, subject="english", subgroup="2", homework_minutes=30)
    assert load(journal) == []  # 90 + 30 = 120 (not 90 + 25 + 30): within the norm
    journal.lesson(MONDAY, period=2, subject="english", subgroup="2", homework_minutes=31,
                   entered=at(MONDAY, "16:00"))
    assert load(journal) == [(MONDAY, 121, 0)]


def test_a_deleted_lesson_sets_no_homework() -> None:
    journal = Journal(grade=5)
    journal.lesson(MONDAY, homework_minutes=70)
    copy = journal.lesson(MONDAY, lesson_id="copy", homework_minutes=70)
    assert load(journal) == [(MONDAY, 140, 0)]
    journal.add("lesson.deleted", at(MONDAY, "16:00"), {"lesson_id": copy})
    assert load(journal) == []


def test_the_estimate_is_an_optional_field_of_the_contract() -> None:
    envelope = {"id": "e1", "type": "lesson.recorded", "school_id": "s1",
                "occurred_at": "2026-09-07T15:00:00+06:00",
                "data": {"lesson_id": "l1", "class_id": "5a", "subject_id": "math",
                         "date": MONDAY, "period": 1, "teacher_id": "t1",
                         "homework": "№ 5"}}
    assert validation_errors(envelope) == {}
    assert validation_errors({**envelope, "data": {**envelope["data"],
                                                   "homework_minutes": 30}}) == {}
    for wrong in (-1, 601, "30", 2.5):
        errors = validation_errors({**envelope, "data": {**envelope["data"],
                                                         "homework_minutes": wrong}})
        assert "homework_minutes" in errors["data"], wrong


# 3.7 homework posted ahead ----------------------------------------------------------------
def not_ahead(journal: Journal) -> list[str | None]:
    return [f.lesson_id for f in journal.findings(LATER, "homework.not_ahead")]


@pytest.mark.parametrize(("entered", "next_day", "flagged"), [
    ("15:00", TUESDAY, False),    # 9 h before Tuesday: the evening to plan
    ("20:00", TUESDAY, False),    # exactly 4 h
    ("20:01", TUESDAY, True),
    ("21:30", TUESDAY, True),     # on time for clause 3.6, but no time to plan
    ("21:30", THURSDAY, False),   # the next lesson is days away
])
def test_homework_is_posted_ahead_of_the_next_lesson(entered: str, next_day: str,
                                                      flagged: bool) -> None:
    journal = Journal()
    first = journal.lesson(MONDAY, entered=at(MONDAY, entered))
    journal.lesson(next_day)
    assert not_ahead(journal) == ([first] if flagged else [])
    assert journal.findings(LATER, "homework.late") == []
    if flagged:
        finding = journal.findings(LATER, "homework.not_ahead")[0]
        assert severity_of(finding) == "warning"  # a recommendation, never a violation
        assert finding.evidence["notice_hours"] < 4
        assert "менее чем за 4 ч" in message(finding)


def test_notice_is_judged_once_the_next_lesson_is_known() -> None:
    journal = Journal()
    first = journal.lesson(MONDAY, entered=at(MONDAY, "22:00"))
    assert not_ahead(journal) == []
    journal.lesson(TUESDAY)
    assert not_ahead(journal) == [first]


def test_late_homework_is_only_late_and_a_double_lesson_is_not_the_next_lesson() -> None:
    journal = Journal()
    late = journal.lesson(MONDAY, entered=at(TUESDAY, "07:00"))
    journal.lesson(TUESDAY, period=1, entered=at(TUESDAY, "14:00"))
    journal.lesson(TUESDAY, period=2, entered=at(TUESDAY, "14:00"))  # a double lesson
    journal.lesson(THURSDAY)
    assert [f.lesson_id for f in journal.findings(LATER, "homework.late")] == [late]
    assert not_ahead(journal) == []


def test_an_outage_that_day_excuses_the_short_notice() -> None:
    journal = Journal()
    journal.outage(at(MONDAY, "13:00"), at(MONDAY, "21:00"), reported=at(MONDAY, "21:05"))
    journal.lesson(MONDAY, entered=at(MONDAY, "21:10"))
    journal.lesson(TUESDAY)
    assert not_ahead(journal) == []


def test_no_homework_needs_no_notice() -> None:
    journal = Journal()
    journal.lesson(MONDAY, homework="не задано", entered=at(MONDAY, "23:00"))
    journal.lesson(TUESDAY)
    assert not_ahead(journal) == []


# 4.3 journal visits by students and parents -----------------------------------------------
def visits(journal: Journal, day: str, counts: dict[str, tuple[int, int]],
           class_id: str = "5a") -> None:
    journal.add("journal.visits", at(day, "23:59"), {
        "class_id": class_id, "date": day,
        "visits": [{"student_id": sid, "student_visits": s, "parent_visits": p}
                   for sid, (s, p) in counts.items()]})


def days(start: int, count: int) -> list[str]:
    return [f"2026-09-{day:02d}" for day in range(start, start + count)]


SWITCHED_ON = Parameters(journal_visits_rule=1)


def idle(journal: Journal, params: Parameters = SWITCHED_ON) -> dict[str, tuple[str, int]]:
    """student -> (who has not visited, days since the first day without a visit up to
    the newest reported day)."""
    newest = max((v.last_reported for v in journal.facts.visits.values() if v.last_reported),
                 default=None)
    if newest is None:
        return {}
    return {f.student_id or "": (f.evidence["who"], (newest - f.date).days + 1)
            for f in journal.findings(LATER, "journal.not_visited", params)}


def test_visits_are_a_rule_only_when_the_school_switches_it_on() -> None:
    journal = Journal()
    for day in days(1, 20):
        visits(journal, day, {"st1": (0, 0), "st2": (0, 0), "st3": (0, 0), "st4": (0, 0)})
    assert idle(journal, Parameters()) == {}
    assert set(idle(journal)) == {"st1", "st2", "st3", "st4"}


def test_who_has_not_visited_for_the_schools_number_of_days() -> None:
    journal = Journal()
    for day in days(1, 15):  # reported 01.09-15.09
        visits(journal, day, {"st1": (1, 1), "st2": (0, 1), "st3": (1, 0), "st4": (0, 0)})
    visits(journal, "2026-09-01", {"st1": (1, 1), "st2": (2, 1), "st3": (1, 0),
                                   "st4": (0, 0)})
    # st1 came every day; st2 last came 01.09 (14 days before 15.09); st3's parents and
    # st4 (and parents) never: 15 reported days
    assert idle(journal) == {"st2": ("ученик", 14), "st3": ("родители", 15),
                             "st4": ("ученик и родители", 15)}
    assert idle(journal, Parameters(journal_visits_rule=1, journal_visit_days=15)) == {
        "st3": ("родители", 15), "st4": ("ученик и родители", 15)}
    finding = next(f for f in journal.findings(LATER, "journal.not_visited", SWITCHED_ON)
                   if f.student_id == "st4")
    assert finding.teacher_id == "t1"  # the class teacher (homeroom) acts
    assert CATALOG["journal.not_visited"].responsible == "class_teacher"
    assert severity_of(finding) == "warning"
    assert message(finding) == ("Электронный журнал не посещали (ученик и родители) "
                                "с 01.09.2026.")
    st2 = next(f for f in journal.findings(LATER, "journal.not_visited", SWITCHED_ON)
               if f.student_id == "st2")
    assert st2.date.isoformat() == "2026-09-02"  # the day after their last visit
    assert st2.evidence == {"who": "ученик", "last_visit": "2026-09-01"}


def test_thirteen_days_are_not_fourteen_and_a_visit_ends_the_finding() -> None:
    journal = Journal(students=1)
    visits(journal, "2026-09-01", {"st1": (1, 1)})
    for day in days(2, 13):
        visits(journal, day, {"st1": (0, 1)})
    assert idle(journal) == {}          # 13 days up to 14.09
    visits(journal, "2026-09-15", {"st1": (0, 1)})
    assert idle(journal) == {"st1": ("ученик", 14)}
    visits(journal, "2026-09-16", {"st1": (1, 1)})
    assert idle(journal) == {}


def test_visit_reports_in_any_order_give_the_same_result() -> None:
    reports = [(day, {"st1": (int(day == "2026-09-02"), 1), "st2": (1, 0)})
               for day in days(1, 20)]
    results = set()
    for seed in range(5):
        journal = Journal(students=2)
        shuffled = reports[:]
        random.Random(seed).shuffle(shuffled)
        for day, counts in shuffled + shuffled[:3]:  # and some sent twice
            visits(journal, day, counts)
        results.add(tuple(sorted(idle(journal).items())))
    assert results == {(("st1", ("ученик", 18)), ("st2", ("родители", 20)))}


def test_a_class_without_reports_and_a_student_who_left_are_not_judged() -> None:
    journal = Journal(students=2)
    assert idle(journal) == {}  # Kundoluk sends no visits for the class
    for day in days(1, 20):
        visits(journal, day, {"st1": (1, 1), "st2": (0, 0)})
    journal.roster(at("2026-09-21"), ["st1"])  # st2 left the class
    assert idle(journal) == {}


def test_the_visits_event_carries_counts_only() -> None:
    envelope = {"id": "v1", "type": "journal.visits", "school_id": "s1",
                "occurred_at": "2026-09-07T23:59:00+06:00",
                "data": {"class_id": "5a", "date": MONDAY, "visits": [
                    {"student_id": "st1", "student_visits": 2, "parent_visits": 0}]}}
    assert validation_errors(envelope) == {}
    wrong = {**envelope, "data": {"class_id": "5a", "date": MONDAY, "visits": [
        {"student_id": "st1", "student_visits": -1}]}}
    assert set(validation_errors(wrong)["data"]["visits"]["0"]) == {"student_visits",
                                                                    "parent_visits"}


# 4.3 personal data after each quarter, or at least every half-year -------------------------
AFTER_H1 = at("2027-01-20")  # the first half-year ended 28.12.2026


QUARTERLY = Parameters()


def unverified(journal: Journal, params: Parameters = QUARTERLY) -> list[str | None]:
    return sorted(f.term_id for f in evaluate(journal.facts, AFTER_H1, params)
                  if f.rule == "personal_data.unverified")


def test_by_default_personal_data_are_checked_after_each_quarter() -> None:
    journal = Journal()
    journal.add("personal_data.verified", at("2026-11-02"), {
        "class_id": "5a", "term_id": "q1", "verified_by": "t1"})
    assert unverified(journal) == ["q2"]
    finding = next(f for f in evaluate(journal.facts, AFTER_H1, Parameters())
                   if f.rule == "personal_data.unverified")
    assert message(finding) == ("Персональные данные класса не проверены после четверти, "
                                "закончившейся 28.12.2026.")


HALF_YEARLY = Parameters(personal_data_period="half_year")


def test_half_yearly_checks_are_judged_after_each_half_year() -> None:
    journal = Journal()
    assert unverified(journal, HALF_YEARLY) == ["h1"]  # not q1, not q2
    finding = next(f for f in evaluate(journal.facts, AFTER_H1, HALF_YEARLY)
                   if f.rule == "personal_data.unverified")
    assert message(finding) == ("Персональные данные класса не проверены после полугодия, "
                                "закончившегося 28.12.2026.")
    assert finding.teacher_id == "t1"


@pytest.mark.parametrize(("term_id", "day", "counts"), [
    ("h1", "2026-12-29", True),
    ("q2", "2026-12-30", True),     # the check of the quarter that ends the half-year
    ("h1", "2026-12-27", False),    # before the half-year ended
    ("q1", "2026-12-29", False),    # another quarter's check
    ("h1", "2027-01-06", False),    # more than 7 days after
])
def test_which_check_counts_for_a_half_year(term_id: str, day: str, counts: bool) -> None:
    journal = Journal()
    journal.add("personal_data.verified", at(day), {
        "class_id": "5a", "term_id": term_id, "verified_by": "t1"})
    assert unverified(journal, HALF_YEARLY) == ([] if counts else ["h1"])


def test_a_calendar_without_half_years_uses_the_second_and_fourth_quarters() -> None:
    journal = Journal()
    calendar = journal.facts.calendar.data
    assert calendar is not None
    journal.add("school.calendar", at("2026-08-26"), {
        **calendar, "terms": [t for t in calendar["terms"] if t["kind"] != "half_year"]})
    assert unverified(journal, HALF_YEARLY) == ["q2"]


def test_the_new_parameters_have_bounds() -> None:
    assert parameter_errors({"personal_data_period": "half_year"}) == {}
    assert parameter_errors({"personal_data_period": "month"}) == {
        "personal_data_period": ["must be one of quarter, half_year"]}
    assert parameter_errors({"homework_minutes_grades_9_11": 600, "journal_visits_rule": 1,
                             "homework_from_grade": 1}) == {}
    assert parameter_errors({"homework_minutes_grades_9_11": 601}) == {
        "homework_minutes_grades_9_11": ["must be a whole number from 0 to 600"]}
    assert set(parameter_errors({"journal_visits_rule": 2, "homework_from_grade": 0,
                                 "journal_visit_days": 0})) == {
        "journal_visits_rule", "homework_from_grade", "journal_visit_days"}
    params = Parameters.from_values({"personal_data_period": "half_year",
                                     "homework_notice_hours": 6})
    assert (params.personal_data_period, params.homework_notice_hours) == ("half_year", 6)
    assert Parameters.from_values({"personal_data_period": "month"}).personal_data_period \
        == "quarter"
