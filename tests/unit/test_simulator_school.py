"""The generated school: deterministic, realistic, and clean by itself (no rule broken)."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache

import pytest

from kozomol.simulator.model import School, SchoolClass, Slot
from kozomol.simulator.names import patronymic, surname_form
from kozomol.simulator.school import generate_school

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KYRGYZ_LETTERS = re.compile(r"[ңөүҢӨҮ]")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN = re.compile(r"[A-Za-z]")
#: rules.md: topic.placeholder, topic.abbreviation
PLACEHOLDER = re.compile(r"^[\s\-–—.…\"'〃«»=]*$|^(повтор|то же|тоже|см\.?\s*выше)[\s.!]*$",
                         re.IGNORECASE)
ABBREVIATIONS = ("к/р", "л/р", "пр.р", "пр. р", "контр.", "сам. раб", "сам.раб", "упр.", "стр.",
                 "лаб.", "практ.", "повт.")
#: rules.md: topic.assessment_unnamed (how a topic names each kind of graded work)
WORK_WORDS = {"control": ("контрольн",), "test": ("тест", "test"), "lab": ("лаборатор",),
              "practical": ("практическ",), "dictation": ("диктант",),
              "essay": ("сочинени",)}
LANGUAGE_SUBJECTS = ("english", "kyrgyz_lang")


@cache
def school() -> School:
    return generate_school(1)


@cache
def five_day_school() -> School:
    return generate_school(4, school_number=7, parallels=3, weekend=("sat", "sun"),
                           academic_year_start=2027)


@cache
def small_school() -> School:
    return generate_school(2, parallels=1, grades=[5])


SCHOOLS = (school, five_day_school, small_school)


def school_days(which: School) -> set[int]:
    return {i for i, name in enumerate(WEEKDAYS) if name not in which.calendar.weekend}


def split(school_class: SchoolClass) -> bool:
    return any(slot.subgroup for slot in school_class.timetable)


# determinism and identity -------------------------------------------------------------------------
def test_the_same_arguments_give_an_equal_school_and_other_seeds_another() -> None:
    assert generate_school(1) == school()
    assert generate_school(4, school_number=7, parallels=3, weekend=("sat", "sun"),
                           academic_year_start=2027) == five_day_school()
    other = generate_school(2)
    assert other != school()
    assert [c.students for c in other.classes] != [c.students for c in school().classes]
    assert [c.timetable for c in other.classes] != [c.timetable for c in school().classes]
    assert generate_school(1, school_number=2).school_id == "sch0002"
    assert generate_school(1, school_number=2) != school()


@pytest.mark.parametrize("make", SCHOOLS)
def test_ids_are_ascii_unique_and_follow_the_scheme(make: Callable[[], School]) -> None:
    which = make()
    assert re.fullmatch(r"sch\d{4}", which.school_id)
    assert re.fullmatch(r"(Средняя школа|Школа-гимназия|Средняя общеобразовательная школа|"
                        r"Школа-лицей|Гимназия) № \d+", which.name)
    assert which.language_of_instruction == "ru"
    latin = {"А": "a", "Б": "b", "В": "v", "Г": "g", "Д": "d"}
    class_ids = [c.class_id for c in which.classes]
    assert len(class_ids) == len(set(class_ids))
    for school_class in which.classes:
        assert school_class.class_id == f"{school_class.grade}{latin[school_class.letter]}"
    students = [s.student_id for c in which.classes for s in c.students]
    assert len(students) == len(set(students))
    assert all(re.fullmatch(rf"{which.school_id}-st\d{{5}}", s) for s in students)
    assert all(re.fullmatch(rf"{which.school_id}-t\d{{3}}", t) for t in which.teachers)
    assert all(t.teacher_id == key for key, t in which.teachers.items())
    for subject_id, subject in which.subjects.items():
        assert subject.subject_id == subject_id and subject_id.isascii()
        assert CYRILLIC.search(subject.name)
        assert subject.is_language == (subject_id in LANGUAGE_SUBJECTS)
    everything = [*class_ids, *students, *which.teachers, *which.subjects,
                  *(t.term_id for t in which.calendar.terms)]
    assert all(value.isascii() for value in everything)


# people -------------------------------------------------------------------------------------------
def test_patronymics_and_surnames_agree_with_gender() -> None:
    assert patronymic("Бакыт", female=False) == "Бакытович"
    assert patronymic("Марат", female=True) == "Маратовна"
    assert patronymic("Алексей", female=True) == "Алексеевна"
    assert patronymic("Игорь", female=False) == "Игоревич"
    assert patronymic("Кубаныч", female=False) == "Кубанычевич"
    assert patronymic("Никита", female=True) == "Никитична"
    assert patronymic("Юрий", female=False) == "Юрьевич"
    assert surname_form("Асанов", female=True) == "Асанова"
    assert surname_form("Үсөнов", female=False) == "Үсөнов"
    assert surname_form("Вишневский", female=True) == "Вишневская"
    assert surname_form("Шевченко", female=True) == "Шевченко"


@pytest.mark.parametrize("make", SCHOOLS)
def test_students_are_realistic(make: Callable[[], School]) -> None:
    which = make()
    start = date(int(which.calendar.academic_year[:4]), 9, 1)
    for school_class in which.classes:
        assert 20 <= len(school_class.students) <= 35
        for student in school_class.students:
            surname, _first, middle = student.full_name.split(" ")
            assert all(CYRILLIC.search(part) for part in student.full_name.split(" "))
            female = middle.endswith(("вна", "чна"))
            assert female or middle.endswith(("вич", "ич"))
            assert not (female and surname.endswith(("ов", "ев", "ёв", "ин", "ский")))
            assert not (not female and surname.endswith(("ова", "ева", "ина", "ская")))
            age = start.year - student.birth_date.year - (
                (start.month, start.day) < (student.birth_date.month, student.birth_date.day))
            assert school_class.grade + 5 <= age <= school_class.grade + 6, student
            assert 1 <= len(student.parents) <= 2
            for name, relation, phone in student.parents:
                assert len(name.split(" ")) == 3 and CYRILLIC.search(name)
                assert relation in ("mother", "father", "guardian")
                assert re.fullmatch(r"\+996\d{9}", phone)
    names = [s.full_name for c in which.classes for s in c.students]
    assert len(names) == len(set(names))


def test_names_mix_kyrgyz_and_russian() -> None:
    names = [s.full_name for c in school().classes for s in c.students]
    assert sum(bool(KYRGYZ_LETTERS.search(name)) for name in names) > len(names) // 10
    assert any(name.split(" ")[0].startswith(("Иванов", "Петров", "Смирнов", "Кузнецов",
                                              "Попов", "Соколов", "Волков", "Морозов"))
               for name in names)
    assert any(KYRGYZ_LETTERS.search(t.full_name) for t in school().teachers.values())


def test_the_default_school_has_two_parallels_of_eleven_grades() -> None:
    which = school()
    assert [c.class_id for c in which.classes][:4] == ["1a", "1b", "2a", "2b"]
    assert len(which.classes) == 22
    assert {c.letter for c in which.classes} == {"А", "Б"}
    hours = {c.grade: len({(s.weekday, s.period) for s in c.timetable}) for c in which.classes}
    assert hours == {1: 20, 2: 23, 3: 23, 4: 23, 5: 30, 6: 30, 7: 30, 8: 30, 9: 30, 10: 32,
                     11: 32}


# subgroups and teachers ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", SCHOOLS)
def test_big_classes_of_grades_five_to_eleven_split_in_halves(make: Callable[[], School]) -> None:
    which = make()
    for school_class in which.classes:
        expected = school_class.grade >= 5 and len(school_class.students) >= 24
        assert split(school_class) == expected, school_class.class_id
        subjects = {s.subject_id for s in school_class.timetable if s.subgroup}
        if expected:
            assert subjects == {"english", "kyrgyz_lang", "informatics"}
            assert all(which.subjects[s].split_in_subgroups for s in subjects)
        for subject_id in subjects:
            groups = Counter(s.subgroups[subject_id] for s in school_class.students)
            assert set(groups) == {"1", "2"} and abs(groups["1"] - groups["2"]) <= 1
        assert all(set(s.subgroups) == subjects for s in school_class.students)


@pytest.mark.parametrize("make", SCHOOLS)
def test_no_teacher_is_in_two_places_at_once(make: Callable[[], School]) -> None:
    which = make()
    places: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for school_class in which.classes:
        for slot in school_class.timetable:
            assert slot.teacher_id in which.teachers
            places[(slot.teacher_id, slot.weekday, slot.period)].append(school_class.class_id)
    assert {k: v for k, v in places.items() if len(v) > 1} == {}


@pytest.mark.parametrize("make", SCHOOLS)
def test_split_subjects_come_in_pairs_with_different_teachers(make: Callable[[], School]) -> None:
    which = make()
    for school_class in which.classes:
        cells: dict[tuple[int, int], list[Slot]] = defaultdict(list)
        for slot in school_class.timetable:
            cells[(slot.weekday, slot.period)].append(slot)
        for cell, slots in cells.items():
            if len(slots) == 1:
                assert slots[0].subgroup is None, (school_class.class_id, cell)
            else:
                assert len(slots) == 2
                assert sorted(s.subgroup or "" for s in slots) == ["1", "2"]
                assert len({s.subject_id for s in slots}) == 1
                assert slots[0].teacher_id != slots[1].teacher_id


@pytest.mark.parametrize("make", SCHOOLS)
def test_each_class_has_its_own_homeroom_teacher(make: Callable[[], School]) -> None:
    which = make()
    homerooms = [c.homeroom_teacher_id for c in which.classes]
    assert len(homerooms) == len(set(homerooms))
    for school_class in which.classes:
        teaching = Counter(s.teacher_id for s in school_class.timetable)
        if school_class.grade <= 4:  # the primary teacher: most of the class's lessons
            assert teaching.most_common(1)[0][0] == school_class.homeroom_teacher_id
            assert teaching[school_class.homeroom_teacher_id] >= 14


def test_teachers_teach_one_or_two_subjects_at_a_reasonable_load() -> None:
    which = school()
    load = Counter(s.teacher_id for c in which.classes for s in c.timetable)
    primary = {c.homeroom_teacher_id for c in which.classes if c.grade <= 4}
    for teacher_id, teacher in which.teachers.items():
        assert CYRILLIC.search(teacher.full_name) and len(teacher.full_name.split()) == 3
        assert load[teacher_id] <= 26
        taught = {s.subject_id for c in which.classes for s in c.timetable
                  if s.teacher_id == teacher_id}
        assert taught == set(teacher.subject_ids)
        if teacher_id not in primary:
            assert 1 <= len(teacher.subject_ids) <= 2
    assert sum(load[t] >= 18 for t in which.teachers if t not in primary) >= len(
        [t for t in which.teachers if t not in primary]) // 2


# the timetable ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", SCHOOLS)
def test_days_have_no_gaps_and_a_subject_at_most_twice(make: Callable[[], School]) -> None:
    which = make()
    longest = 0
    for school_class in which.classes:
        periods: dict[int, set[int]] = defaultdict(set)
        per_day = Counter((s.weekday, s.subject_id) for s in school_class.timetable
                          if s.subgroup != "2")
        for slot in school_class.timetable:
            periods[slot.weekday].add(slot.period)
        assert set(periods) == school_days(which)
        for day_periods in periods.values():
            assert day_periods == set(range(1, max(day_periods) + 1))
            longest = max(longest, *day_periods)
        assert max(per_day.values()) <= 2
        assert school_class.timetable == tuple(sorted(
            school_class.timetable, key=lambda s: (s.weekday, s.period, s.subgroup or "")))
    assert len(which.calendar.bell_times) >= max(7, longest)


def test_grade_lengths_of_the_day() -> None:
    longest = {c.grade: max(s.period for s in c.timetable) for c in school().classes}
    assert longest[1] == 4 and all(longest[g] == 4 for g in (2, 3, 4))
    assert all(longest[g] == 6 for g in range(5, 12))
    five_day = {c.grade: max(s.period for s in c.timetable) for c in five_day_school().classes}
    assert five_day[1] == 4 and five_day[5] == 6 and five_day[11] == 7


# the calendar -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", SCHOOLS)
def test_the_calendar_has_four_quarters_holidays_and_vacations(make: Callable[[], School]) -> None:
    which = make()
    calendar = which.calendar
    year = int(calendar.academic_year[:4])
    assert calendar.academic_year == f"{year}-{year + 1}"
    assert calendar.timezone == "Asia/Bishkek"
    assert [t.term_id for t in calendar.terms] == [f"{year}-{year + 1}-q{n}" for n in (1, 2, 3, 4)]
    assert all(t.kind == "quarter" for t in calendar.terms)
    assert calendar.year_term.term_id == f"{year}-{year + 1}-y"
    assert calendar.year_term.kind == "year"
    assert (calendar.year_term.start, calendar.year_term.end) == (calendar.terms[0].start,
                                                                  calendar.terms[-1].end)
    assert calendar.terms[0].start.month == 9 and calendar.terms[-1].end.month == 5
    for term, following in zip(calendar.terms, calendar.terms[1:], strict=False):
        assert term.end + timedelta(days=5) < following.start
    for term in calendar.terms:
        assert calendar.is_school_day(term.start) and calendar.is_school_day(term.end)
    assert list(calendar.holidays) == sorted(set(calendar.holidays))
    day = calendar.terms[0].start
    while day <= calendar.terms[-1].end:
        weekend = WEEKDAYS[day.weekday()] in calendar.weekend
        if weekend:
            assert not calendar.is_school_day(day) and day not in calendar.holidays
        elif calendar.term_of(day) is None:  # a vacation weekday
            assert day in calendar.holidays and not calendar.is_school_day(day)
        day += timedelta(days=1)
    public = [date(year + 1, 3, 8), date(year + 1, 5, 9), date(year + 1, 2, 23),
              date(year + 1, 5, 1)]
    for holiday in public:
        if WEEKDAYS[holiday.weekday()] not in calendar.weekend:
            assert holiday in calendar.holidays and not calendar.is_school_day(holiday)
    start, end = calendar.bell_times[0]
    assert (start.hour, start.minute, end.hour, end.minute) == (8, 0, 8, 45)
    for (_, previous_end), (begin, finish) in zip(calendar.bell_times, calendar.bell_times[1:],
                                                  strict=False):
        assert begin > previous_end
        assert (finish.hour * 60 + finish.minute) - (begin.hour * 60 + begin.minute) == 45


# the КТП ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", SCHOOLS)
def test_plans_list_exactly_the_lessons_of_their_slots(make: Callable[[], School]) -> None:
    which = make()
    calendar = which.calendar
    classes = {c.class_id: c for c in which.classes}
    keys = Counter((p.class_id, p.subject_id, p.subgroup, p.term_id) for p in which.plans)
    assert max(keys.values()) == 1
    # Grades 10–11 are planned by half-years, the others by quarters (issue 12).
    expected_keys = {(c.class_id, s.subject_id, s.subgroup, t.term_id)
                     for c in which.classes for s in c.timetable
                     for t in (calendar.half_years if c.grade >= 10 else calendar.terms)}
    assert set(keys) == expected_keys
    terms = {t.term_id: t for t in (*calendar.terms, *calendar.half_years)}
    for plan in which.plans:
        slots = [s for s in classes[plan.class_id].timetable
                 if s.subject_id == plan.subject_id and s.subgroup == plan.subgroup]
        assert {s.teacher_id for s in slots} == {plan.teacher_id}
        term = terms[plan.term_id]
        expected, day = [], term.start
        while day <= term.end:
            if calendar.is_school_day(day):
                expected += [day] * sum(s.weekday == day.weekday() for s in slots)
            day += timedelta(days=1)
        lessons = plan.lessons
        assert [lesson.planned_date for lesson in lessons] == expected
        assert [lesson.number for lesson in lessons] == list(range(1, len(lessons) + 1))
        for lesson in lessons:
            assert calendar.is_school_day(lesson.planned_date)
            assert lesson.planned_date.weekday() in {s.weekday for s in slots}


@pytest.mark.parametrize("make", SCHOOLS)
def test_topics_are_clean_and_distinct_within_a_plan(make: Callable[[], School]) -> None:
    which = make()
    for plan in which.plans:
        topics = [lesson.topic for lesson in plan.lessons]
        assert len(topics) == len(set(topics)), (plan.class_id, plan.subject_id, plan.term_id)
        for topic in topics:
            assert topic.strip() == topic and len(topic) >= 3
            assert not PLACEHOLDER.match(topic), topic
            assert not any(a in topic.lower() for a in ABBREVIATIONS), topic
            assert "." not in topic and "/" not in topic and "—" not in topic, topic
            assert "повтор" not in topic.lower(), topic
            if plan.subject_id == "english":
                assert LATIN.search(topic) and not CYRILLIC.search(topic), topic
            elif plan.subject_id != "kyrgyz_lang":
                assert CYRILLIC.search(topic), topic
                assert not KYRGYZ_LETTERS.search(topic) and not LATIN.search(topic), topic
    kyrgyz = [lesson.topic for p in which.plans if p.subject_id == "kyrgyz_lang"
              for lesson in p.lessons]
    assert any(KYRGYZ_LETTERS.search(topic) for topic in kyrgyz)


def test_double_lessons_have_their_own_topics() -> None:
    doubles = 0
    for plan in school().plans:
        days = Counter(lesson.planned_date for lesson in plan.lessons)
        doubles += sum(count == 2 for count in days.values())
        assert max(days.values()) <= 2
    assert doubles > 0


@pytest.mark.parametrize("make", SCHOOLS)
def test_graded_work_is_named_spread_and_absent_in_grade_one(make: Callable[[], School]) -> None:
    which = make()
    grades = {c.class_id: c.grade for c in which.classes}
    kinds: Counter[str] = Counter()
    for plan in which.plans:
        weeks: Counter[tuple[int, int]] = Counter()
        for lesson in plan.lessons:
            if lesson.assessment is None:
                continue
            kinds[lesson.assessment] += 1
            assert grades[plan.class_id] >= 2
            assert any(word in lesson.topic.lower() for word in WORK_WORDS[lesson.assessment]), (
                lesson.topic)
            iso = lesson.planned_date.isocalendar()
            weeks[(iso.year, iso.week)] += 1
        assert not weeks or max(weeks.values()) == 1
        assert not plan.lessons or plan.lessons[0].assessment is None
    assert kinds["control"] > 0
    if any(g >= 5 for g in grades.values()):
        assert kinds["practical"] > 0 and kinds["essay"] > 0 and kinds["dictation"] > 0
    if any(g >= 7 for g in grades.values()):
        assert kinds["lab"] > 0


def test_graded_work_of_the_default_school() -> None:
    which = school()
    for plan in which.plans:
        assessed = [lesson for lesson in plan.lessons if lesson.assessment]
        if plan.subject_id in ("math", "algebra", "russian_lang", "history", "english") \
                and len(plan.lessons) >= 18 and not plan.class_id.startswith("1"):
            assert assessed, (plan.class_id, plan.subject_id, plan.term_id)
        for lesson in assessed:
            if lesson.assessment == "control":
                assert lesson.topic.startswith("Контрольная работа № ")
            elif lesson.assessment == "test":
                assert plan.subject_id == "english" and lesson.topic.startswith("Test ")
            elif lesson.assessment == "lab":
                assert plan.subject_id in ("physics", "chemistry", "biology")
                assert lesson.topic.startswith("Лабораторная работа № ")
            elif lesson.assessment == "practical":
                assert lesson.topic.startswith("Практическая работа № ")
            elif lesson.assessment == "dictation":
                assert plan.subject_id == "russian_lang"
            else:
                assert lesson.assessment == "essay" and plan.subject_id == "literature"


# small configurations and speed -------------------------------------------------------------------
def test_small_configurations_work() -> None:
    which = small_school()
    assert [c.class_id for c in which.classes] == ["5a"]
    assert which.plans and which.teachers
    one = generate_school(3, parallels=1, grades=[1])
    assert [c.grade for c in one.classes] == [1]
    assert all(lesson.assessment is None for p in one.plans for lesson in p.lessons)
    five_day = five_day_school()
    assert all(s.weekday < 5 for c in five_day.classes for s in c.timetable)
    with pytest.raises(ValueError, match="grades"):
        generate_school(1, grades=[12])
    with pytest.raises(ValueError, match="parallels"):
        generate_school(1, parallels=0)
    with pytest.raises(ValueError, match="language"):
        generate_school(1, language="de")


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    generate_school(11)
    assert time.perf_counter() - started < 2.0
    started = time.perf_counter()
    generate_school(12, parallels=4)
    assert time.perf_counter() - started < 5.0
