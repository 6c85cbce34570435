"""The notifier's planning, from the issue's and the regulation's words (issue 17)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.notifier.domain import planning
from services.notifier.domain.model import (
    Calendar,
    Finding,
    Lesson,
    Mark,
    Plan,
    Recipient,
    Report,
    SchoolClass,
    SchoolFacts,
    Term,
)
from services.notifier.domain.timing import backoff, release_time

TODAY = date(2026, 10, 14)  # a Wednesday in the first quarter
Q1 = Term("q1", "quarter", 1, date(2026, 9, 1), date(2026, 10, 31))
CALENDAR = Calendar(terms=(Q1, Term("q2", "quarter", 2, date(2026, 11, 9), date(2026, 12, 28))))
NOW = datetime(2026, 10, 14, 10, 0, tzinfo=UTC)  # 16:00 in Bishkek


def teacher(person_id: str, name: str, **kwargs: object) -> Recipient:
    return Recipient("teacher", person_id, name, email=f"{person_id}@school.kg",
                     **kwargs)  # type: ignore[arg-type]


def lesson(lesson_id: str, teacher_id: str, *, day: date = TODAY, period: int = 1,
           topic: str = "Дроби", homework: str = "№ 12", attendance: bool = True,
           absent: tuple[tuple[str, str | None], ...] = (), class_id: str = "5a",
           subject_id: str = "math") -> Lesson:
    return Lesson(lesson_id, class_id, subject_id, teacher_id, day, period, None, topic,
                  homework, attendance, absent)


def mark(mark_id: str, student_id: str, *, value: str = "4", lesson_id: str | None = None,
         day: date = TODAY, work_type: str | None = "oral", kind: str = "current",
         term_id: str | None = None, entered_at: datetime = NOW - timedelta(hours=3),
         subject_id: str = "math") -> Mark:
    return Mark(mark_id, student_id, "5a", subject_id, "t1", lesson_id, day, value, work_type,
                kind, term_id, entered_at)


def school(**kwargs: object) -> SchoolFacts:
    facts = SchoolFacts(
        school_id="s1", calendar=CALENDAR, parameters={},
        teachers={"t1": teacher("t1", "Иванова Анна Петровна"),
                  "t2": teacher("t2", "Асанов Бакыт Жумабекович", language="ky"),
                  "d1": teacher("d1", "Орлова Вера Ивановна", roles=("deputy_director",))},
        students={"st1": "Алиев Тимур Русланович", "st2": "Бекова Айжан Маратовна",
                  "st3": "Ким Денис Олегович"},
        classes={"5a": SchoolClass("5a", 5, "t2", {"st1": {}, "st2": {}, "st3": {}})},
        subjects={"math": "Математика", "rus": "Русский язык"},
        parents={"st1": [Recipient("parent", "p1", "Алиева Гульнара Сергеевна",
                                   email="p1@mail.kg", consent=True, student_id="st1")],
                 "st2": [Recipient("parent", "p2", "Беков Марат Асанович",
                                   email="p2@mail.kg", consent=False, student_id="st2")]},
    )
    for name, value in kwargs.items():
        setattr(facts, name, value)
    return facts


# Before the deadline -------------------------------------------------------------------
def test_a_teacher_gets_one_message_listing_todays_lessons_still_incomplete() -> None:
    facts = school(lessons=[
        lesson("l1", "t1", period=2, topic="", attendance=False),
        lesson("l2", "t1", period=3, homework=" "),
        lesson("l3", "t1", period=4),                  # complete: not listed
        lesson("l4", "t1", day=TODAY - timedelta(days=1), topic=""),  # yesterday: not today's
    ])
    drafts = planning.reminders(facts, TODAY)
    assert [d.recipient.person_id for d in drafts] == ["t1"]
    body = drafts[0].body
    assert body.startswith("Анна Петровна, напоминание о сроках в электронном журнале.\n\n"
                           "До конца дня внесите:\n")
    assert "• 5a, Математика, 2-й урок: тему урока, отметку отсутствующих" in body
    assert "• 5a, Математика, 3-й урок: домашнее задание" in body
    assert "4-й урок" not in body
    assert drafts[0].subject == "Напоминание: электронный журнал, 14.10.2026"
    assert drafts[0].key == "reminder:s1:t1:2026-10-14"


def test_no_reminder_for_a_teacher_whose_day_is_complete_or_who_unsubscribed() -> None:
    facts = school(lessons=[lesson("l1", "t1"), lesson("l2", "t2", topic="")])
    facts.teachers["t2"] = teacher("t2", "Асанов Бакыт Жумабекович", consent=False)
    assert planning.reminders(facts, TODAY) == []


def test_written_work_marks_due_tomorrow_name_the_present_students_without_a_mark() -> None:
    work_day = TODAY + timedelta(days=1) - timedelta(days=7)  # written_mark_days = 7
    facts = school(
        lessons=[lesson("w1", "t1", day=work_day, topic="Контрольная работа № 1",
                        absent=(("st3", "illness"),))],
        marks=[mark("m1", "st1", lesson_id="w1", day=work_day, work_type="control")])
    [draft] = planning.reminders(facts, TODAY)
    assert ("Завтра, 15.10.2026, последний день для отметок за письменные работы "
            "от 08.10.2026:") in draft.body
    assert "• 5a, Математика: нет отметок у 1 уч. (Бекова Айжан)" in draft.body
    # a school that allows 5 days: that work is no longer due tomorrow
    facts.parameters = {"written_mark_days": 5}
    assert planning.reminders(facts, TODAY) == []


def test_term_marks_are_reminded_two_days_before_their_deadline() -> None:
    plans = [Plan("5a", "math", None, "t1", "q1")]
    finals = [mark("f1", "st1", kind="quarter", term_id="q1", value="5", day=Q1.end)]
    facts = school(plans=plans, marks=finals)
    # deadline = end of term + final_mark_days (2) = 02.11; two days before = 31.10
    [draft] = planning.reminders(facts, Q1.end)
    assert "Итоговые отметки за 1-ю четверть нужно выставить до 02.11.2026:" in draft.body
    assert "• 5a, Математика: не выставлено 2 из 3" in draft.body
    assert planning.reminders(facts, Q1.end - timedelta(days=1)) == []
    assert planning.reminders(facts, Q1.end + timedelta(days=1)) == []


def test_a_teacher_who_prefers_kyrgyz_is_reminded_in_kyrgyz() -> None:
    [draft] = planning.reminders(school(lessons=[lesson("l1", "t2", topic="")]), TODAY)
    assert draft.recipient.language == "ky"
    assert "Бакыт Жумабекович, электрондук журналдагы мөөнөттөр тууралуу эскертме." in draft.body
    assert "Күндүн аягына чейин киргизиңиз:" in draft.body
    assert "1-сабак: сабактын темасын" in draft.body


# Findings ------------------------------------------------------------------------------
def finding(finding_id: str, *, opened: timedelta, responsible: str = "teacher",
            teacher_id: str | None = "t1", message: str = "Тема урока 12.10.2026 не внесена "
            "в день проведения урока.") -> Finding:
    return Finding(finding_id, "lesson.topic.late", responsible, teacher_id, "5a",
                   date(2026, 10, 12), message, NOW - opened, "math")


def test_the_digest_has_new_and_still_open_findings_and_the_day_to_fix_them_by() -> None:
    facts = school(findings=[finding("f-new", opened=timedelta(hours=5)),
                             finding("f-old", opened=timedelta(days=3),
                                     message="Старое замечание.")])
    [draft] = planning.digests(facts, TODAY, NOW, since=NOW - timedelta(days=1),
                               settling=timedelta(hours=1))
    body = draft.body
    assert body.index("Новые:") < body.index("Тема урока 12.10.2026") \
        < body.index("Ещё не устранены:") < body.index("Старое замечание.")
    # clause 4.2: fortnights from 01.09; 14.10 lies in the fortnight 13.10–26.10
    # (on 26.10 itself, the day of that check, the next one is named: 09.11)
    assert facts.calendar.next_check(date(2026, 10, 26)) == date(2026, 11, 9)
    assert "Устраните их до 26.10.2026 — дня очередной проверки журнала." in body
    assert ("• 5a, Математика: Тема урока 12.10.2026 не внесена в день проведения урока. "
            "Что сделать: внесите недостающую запись.") in body
    assert draft.payload["new"] == ["f-new"] and draft.payload["open"] == ["f-old"]


def test_a_finding_younger_than_the_settling_window_is_not_sent() -> None:
    facts = school(findings=[finding("f1", opened=timedelta(minutes=20))])
    assert planning.digests(facts, TODAY, NOW, since=NOW - timedelta(days=1),
                            settling=timedelta(hours=1)) == []


def test_findings_go_to_whoever_must_act() -> None:
    facts = school(findings=[
        finding("f1", opened=timedelta(hours=2), responsible="class_teacher", teacher_id=None),
        finding("f2", opened=timedelta(hours=2), responsible="deputy", teacher_id=None)])
    drafts = planning.digests(facts, TODAY, NOW, since=NOW - timedelta(days=1),
                              settling=timedelta(hours=1))
    assert {d.recipient.person_id: d.payload["new"] for d in drafts} == {
        "t2": ["f1"], "d1": ["f2"]}  # t2 is 5a's homeroom teacher; d1 the deputy director


# Parents (clause 4.3) -------------------------------------------------------------------
def test_a_parent_who_opted_in_hears_of_their_own_child_only() -> None:
    facts = school(
        lessons=[lesson("l1", "t1", period=2, absent=(("st1", None), ("st2", None))),
                 lesson("l2", "t1", period=3, absent=(("st1", "illness"),))],
        marks=[mark("m1", "st1", value="2"), mark("m2", "st2", value="2"),
               mark("m3", "st1", value="5"),
               mark("m4", "st1", kind="quarter", term_id="q1", value="4", work_type=None)])
    drafts = planning.parent_notices(facts, TODAY, since=NOW - timedelta(days=1), now=NOW)
    assert [d.recipient.person_id for d in drafts] == ["p1"]  # p2 did not opt in
    body = drafts[0].body
    assert "Алиев Тимур" in body and "Бекова" not in body
    assert "• 14.10.2026: отсутствие на уроке «Математика» (2-й урок), причина не указана." \
        in body
    assert "3-й урок" not in body  # absent for illness: a reason is given
    assert "• 14.10.2026: отметка «2» по предмету «Математика»." in body
    assert "• Итоговая отметка за 1-ю четверть по предмету «Математика»: 4." in body
    assert "«5»" not in body
    assert "Классный руководитель: Асанов Бакыт Жумабекович." in body


def test_marks_entered_before_the_last_notice_are_not_repeated() -> None:
    facts = school(marks=[mark("m1", "st1", value="2", entered_at=NOW - timedelta(days=2))])
    assert planning.parent_notices(facts, TODAY, since=NOW - timedelta(days=1), now=NOW) == []


# The deputy director --------------------------------------------------------------------
def test_a_quarters_class_analyses_make_one_summary_with_a_link() -> None:
    received = NOW - timedelta(hours=2)
    reports = [Report(f"r{c}", "quarter_analysis", "Анализ классного журнала за четверть",
                      {"class_id": c, "term_id": "q1"}, [], received) for c in ("5b", "5a")]
    reports.append(Report("rf", "fill_rate", "Заполнение электронного журнала",
                          {"date_from": "2026-09-29", "date_to": "2026-10-12"},
                          [["Проведено уроков", "412"]], received))
    drafts = planning.report_summaries(school(), reports, "https://kozomol.school.kg")
    assert [d.subject for d in drafts] == [
        "Проверка заполнения журнала за 29.09.2026 – 12.10.2026",
        "Анализ классных журналов за 1-ю четверть"]
    assert all(d.recipient.person_id == "d1" for d in drafts)
    assert "• Проведено уроков: 412" in drafts[0].body
    assert "Подробно: https://kozomol.school.kg/reports/rf" in drafts[0].body
    assert "Классов: 2 (5a, 5b)." in drafts[1].body


# Timing ---------------------------------------------------------------------------------
def test_nothing_is_sent_between_21_00_and_08_00_local() -> None:
    zone = "Asia/Bishkek"  # UTC+6
    evening = datetime(2026, 10, 14, 15, 30, tzinfo=UTC)    # 21:30 local
    early = datetime(2026, 10, 14, 1, 59, tzinfo=UTC)       # 07:59 local
    noon = datetime(2026, 10, 14, 6, 0, tzinfo=UTC)
    assert release_time(evening, zone) == datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
    assert release_time(early, zone) == datetime(2026, 10, 14, 2, 0, tzinfo=UTC)
    assert release_time(noon, zone) == noon


def test_retries_back_off_and_stop_growing_at_an_hour() -> None:
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(20, 60) == timedelta(hours=1)


def test_every_rule_of_the_catalog_says_what_to_do_in_both_languages() -> None:
    from services.notifier.domain.texts import ACTIONS, RULE_ACTIONS
    from shared.events.rules import CATALOG

    missing = [rule for rule in CATALOG
               if rule not in RULE_ACTIONS and not rule.startswith("topic.")]
    assert missing == []
    assert set(ACTIONS["ru"]) == set(ACTIONS["ky"])


def test_messages_name_the_class_as_the_school_writes_it() -> None:
    """A teacher reads «5 «А»», not the id Kundoluk keys it by (contract v1.1 ``class_name``)."""
    named = {"5a": SchoolClass("5a", 5, "t2", {"st1": {}, "st2": {}, "st3": {}}, "5 «А»")}
    facts = school(classes=named, lessons=[lesson("l1", "t1", period=2, topic="")],
                   findings=[finding("f-new", opened=timedelta(hours=5))])
    [reminder] = planning.reminders(facts, TODAY)
    assert "• 5 «А», Математика, 2-й урок: тему урока" in reminder.body
    assert "5a" not in reminder.body
    [digest] = planning.digests(facts, TODAY, NOW, since=NOW - timedelta(days=1),
                                settling=timedelta(hours=1))
    assert "• 5 «А», Математика: Тема урока 12.10.2026" in digest.body
    report = Report("r5a", "quarter_analysis", "Анализ классного журнала за четверть",
                    {"class_id": "5a", "term_id": "q1"}, [], NOW - timedelta(hours=2))
    [summary] = planning.report_summaries(facts, [report], "https://kozomol.school.kg")
    assert "Классов: 1 (5 «А»)." in summary.body
