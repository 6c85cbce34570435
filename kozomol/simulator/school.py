"""A realistic school, generated deterministically from a seed (structure only, no activity).

Classes of grades 1–11 with parallel letters, 20–35 students with Kyrgyz and
Russian names, teachers with their subjects (a primary teacher per class in
grades 1–4), subgroups for languages and informatics, a weekly timetable with
no teacher in two places at once, the Kyrgyz school calendar (four quarters,
public holidays, vacations) and the calendar-thematic plan (КТП) of every
class, subject and subgroup per quarter.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, time, timedelta

from kozomol.simulator.model import (
    Calendar,
    PlannedLesson,
    School,
    SchoolClass,
    Slot,
    Student,
    Subject,
    SubjectPlan,
    Teacher,
    Term,
)
from kozomol.simulator.names import (
    ASSESSMENTS,
    ENGLISH_PARTS,
    KYRGYZ_FEMALE,
    KYRGYZ_MALE,
    KYRGYZ_PARTS,
    KYRGYZ_SURNAMES,
    RUSSIAN_FEMALE,
    RUSSIAN_MALE,
    RUSSIAN_SURNAMES,
    SPLIT_SUBJECTS,
    SUBJECTS,
    TOPIC_PARTS,
    TOPICS,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LETTERS = (("А", "a"), ("Б", "b"), ("В", "v"), ("Г", "g"), ("Д", "d"))
PUBLIC_HOLIDAYS = ((11, 7), (11, 8), (1, 1), (1, 7), (2, 23), (3, 8), (3, 21), (5, 1), (5, 5),
                   (5, 9))
PRIMARY_SPECIALISTS = ("english", "kyrgyz_lang", "pe", "music")
MAX_TEACHER_LOAD = 26
SPLIT_MIN_STUDENTS = 24


def generate_school(seed: int, *, school_number: int = 1, parallels: int = 2,
                    grades: Sequence[int] = range(1, 12), academic_year_start: int = 2026,
                    weekend: tuple[str, ...] = ("sun",)) -> School:
    rng = random.Random(seed * 1_000_003 + school_number)
    school_id = f"sch{school_number:04d}"
    calendar = _calendar(academic_year_start, weekend)
    subjects = {sid: Subject(sid, name, is_language, sid in SPLIT_SUBJECTS)
                for sid, name, is_language, _grades, _hours in SUBJECTS}
    staff = _Staff(school_id, rng)
    days = [i for i, name in enumerate(WEEKDAYS) if name not in weekend]
    classes = []
    student_number = 0
    for grade in grades:
        for letter, latin in LETTERS[:parallels]:
            class_id = f"{grade}{latin}"
            size = rng.randint(20, 35)
            split = grade >= 5 and size >= SPLIT_MIN_STUDENTS
            students = []
            for _ in range(size):
                student_number += 1
                students.append(_student(rng, f"{school_id}-st{student_number:05d}",
                                         academic_year_start, grade))
            students.sort(key=lambda s: s.full_name)
            if split:
                half = (size + 1) // 2
                students = [Student(s.student_id, s.full_name, s.birth_date, s.parents,
                                    {sid: "1" if i < half else "2" for sid in SPLIT_SUBJECTS
                                     if _taught(sid, grade)})
                            for i, s in enumerate(students)]
            grid = _week(rng, grade, days)
            timetable, homeroom = staff.assign(class_id, grade, grid, split)
            classes.append(SchoolClass(class_id, grade, letter, homeroom, tuple(students),
                                       tuple(sorted(timetable, key=lambda s: (
                                           s.weekday, s.period, s.subgroup or "")))))
    plans = tuple(plan for school_class in classes for term in calendar.terms
                  for plan in _plans(school_class, term, calendar))
    return School(
        school_id=school_id,
        name=f"Средняя общеобразовательная школа № {10 + school_number * 7 % 90}",
        language_of_instruction="ru",
        calendar=calendar,
        subjects=subjects,
        teachers={t.teacher_id: t for t in staff.teachers()},
        classes=tuple(classes),
        plans=plans,
    )


# the calendar ---------------------------------------------------------------------
def _calendar(year: int, weekend: tuple[str, ...]) -> Calendar:
    def weekday_off(day: date) -> bool:
        return WEEKDAYS[day.weekday()] in weekend

    public = {date(year + (1 if month < 9 else 0), month, day) for month, day in PUBLIC_HOLIDAYS}

    def school_day(day: date) -> bool:
        return not weekday_off(day) and day not in public

    def term(number: int, start: date, end: date) -> Term:
        while not school_day(start):
            start += timedelta(days=1)
        while not school_day(end):
            end -= timedelta(days=1)
        return Term(f"{year}-{year + 1}-q{number}", "quarter", number, start, end)

    terms = (term(1, date(year, 9, 1), date(year, 10, 31)),
             term(2, date(year, 11, 10), date(year, 12, 29)),
             term(3, date(year + 1, 1, 12), date(year + 1, 3, 20)),
             term(4, date(year + 1, 4, 1), date(year + 1, 5, 25)))
    holidays = []
    day = terms[0].start
    while day <= terms[-1].end:
        in_term = any(t.start <= day <= t.end for t in terms)
        if not weekday_off(day) and (day in public or not in_term):
            holidays.append(day)
        day += timedelta(days=1)
    bells, start = [], 8 * 60
    for period in range(1, 9):
        bells.append((time(start // 60, start % 60), time((start + 45) // 60, (start + 45) % 60)))
        start += 45 + (20 if period == 3 else 10)
    return Calendar(
        academic_year=f"{year}-{year + 1}", timezone="Asia/Bishkek", weekend=weekend,
        terms=terms, year_term=Term(f"{year}-{year + 1}-y", "year", 1, terms[0].start,
                                    terms[-1].end),
        holidays=tuple(holidays), bell_times=tuple(bells))


# people ------------------------------------------------------------------------------
def _patronymic(father: str, female: bool) -> str:
    stem = father[:-1] + "е" if father.endswith("й") else father
    return stem + ("вна" if female else "вич") if stem.endswith("е") else \
        stem + ("овна" if female else "ович")


def _person(rng: random.Random, female: bool, surname: str | None = None) -> tuple[str, str]:
    kyrgyz = rng.random() < 0.65
    first = rng.choice((KYRGYZ_FEMALE if kyrgyz else RUSSIAN_FEMALE) if female
                       else (KYRGYZ_MALE if kyrgyz else RUSSIAN_MALE))
    base = surname or rng.choice(KYRGYZ_SURNAMES if kyrgyz else RUSSIAN_SURNAMES)
    father = rng.choice(KYRGYZ_MALE if kyrgyz else RUSSIAN_MALE)
    return f"{base}{'а' if female else ''} {first} {_patronymic(father, female)}", base


def _student(rng: random.Random, student_id: str, year: int, grade: int) -> Student:
    female = rng.random() < 0.5
    full_name, surname = _person(rng, female)
    born = date(year - grade - 6, 1, 1) + timedelta(days=rng.randint(0, 364) - 120)
    parents = [(_person(rng, True, surname)[0], "mother", _phone(rng))]
    if rng.random() < 0.6:
        parents.append((_person(rng, False, surname)[0], "father", _phone(rng)))
    return Student(student_id, full_name, born, tuple(parents))


def _phone(rng: random.Random) -> str:
    return f"+996{rng.choice(('700', '555', '777', '220', '505'))}{rng.randint(0, 999_999):06d}"


def _taught(subject_id: str, grade: int) -> bool:
    return any(sid == subject_id and grade in grades for sid, _, _, grades, _ in SUBJECTS)


def _hours(grade: int) -> dict[str, int]:
    band = 0 if grade <= 4 else 1 if grade <= 9 else 2
    return {sid: hours[band] for sid, _, _, grades, hours in SUBJECTS
            if grade in grades and hours[band]}


def _week(rng: random.Random, grade: int, days: list[int]) -> list[tuple[int, int, str]]:
    """(weekday, period, subject) of a class's week: every subject its hours, ≤ 2 a day."""
    lessons = [sid for sid, hours in sorted(_hours(grade).items()) for _ in range(hours)]
    rng.shuffle(lessons)
    per_day: dict[int, list[str]] = {day: [] for day in days}
    if "literature" in lessons:  # a double literature lesson once a week, as schools do
        per_day[rng.choice(days)] += ["literature", "literature"]
        lessons.remove("literature")
        lessons.remove("literature")
    for subject_id in sorted(lessons, key=lambda sid: -_hours(grade)[sid]):
        day = min(days, key=lambda d: (per_day[d].count(subject_id) >= 2,
                                       per_day[d].count(subject_id), len(per_day[d]),
                                       rng.random()))
        per_day[day].append(subject_id)
    grid = []
    for day in days:
        rng.shuffle(per_day[day])
        grid += [(day, period, sid) for period, sid in enumerate(per_day[day], start=1)]
    return grid


class _Staff:
    """Teachers, hired as the timetable needs them; nobody in two places at once."""

    def __init__(self, school_id: str, rng: random.Random) -> None:
        self.school_id, self.rng = school_id, rng
        self._teachers: list[tuple[str, str, list[str]]] = []  # id, name, subjects
        self._busy: dict[str, set[tuple[int, int]]] = defaultdict(set)
        self._homeroom: set[str] = set()

    def teachers(self) -> list[Teacher]:
        return [Teacher(tid, name, tuple(subjects)) for tid, name, subjects in self._teachers]

    def _hire(self, subjects: list[str]) -> str:
        teacher_id = f"{self.school_id}-t{len(self._teachers) + 1:03d}"
        name, _ = _person(self.rng, self.rng.random() < 0.75)
        self._teachers.append((teacher_id, name, subjects))
        return teacher_id

    def _free(self, teacher_id: str, times: list[tuple[int, int]], exclude: str = "") -> bool:
        return (teacher_id != exclude and not self._busy[teacher_id] & set(times)
                and len(self._busy[teacher_id]) + len(times) <= MAX_TEACHER_LOAD)

    def _teacher_for(self, subject_id: str, times: list[tuple[int, int]],
                     exclude: str = "") -> str:
        for teacher_id, _, subjects in self._teachers:
            if subject_id in subjects and self._free(teacher_id, times, exclude):
                break
        else:
            teacher_id = self._hire([subject_id])
        self._busy[teacher_id] |= set(times)
        return teacher_id

    def assign(self, class_id: str, grade: int, grid: list[tuple[int, int, str]],
               split: bool) -> tuple[list[Slot], str]:
        by_subject: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for day, period, subject_id in grid:
            by_subject[subject_id].append((day, period))
        slots: list[Slot] = []
        primary = ""
        if grade <= 4:
            own = [sid for sid in by_subject if sid not in PRIMARY_SPECIALISTS]
            primary = self._hire(own)
            for subject_id in own:
                self._busy[primary] |= set(by_subject[subject_id])
        for subject_id, times in sorted(by_subject.items()):
            if grade <= 4 and subject_id not in PRIMARY_SPECIALISTS:
                slots += [Slot(d, p, subject_id, None, primary) for d, p in times]
            elif split and subject_id in SPLIT_SUBJECTS:
                first = self._teacher_for(subject_id, times)
                second = self._teacher_for(subject_id, times, exclude=first)
                slots += [Slot(d, p, subject_id, group, teacher)
                          for d, p in times for group, teacher in (("1", first), ("2", second))]
            else:
                teacher = self._teacher_for(subject_id, times)
                slots += [Slot(d, p, subject_id, None, teacher) for d, p in times]
        homeroom = primary or self._homeroom_for(slots)
        self._homeroom.add(homeroom)
        return slots, homeroom

    def _homeroom_for(self, slots: list[Slot]) -> str:
        for slot in slots:
            if slot.teacher_id not in self._homeroom:
                return slot.teacher_id
        return self._hire(["history"])


# the КТП -------------------------------------------------------------------------------
def _plans(school_class: SchoolClass, term: Term, calendar: Calendar) -> list[SubjectPlan]:
    streams: dict[tuple[str, str | None], list[Slot]] = defaultdict(list)
    for slot in school_class.timetable:
        streams[(slot.subject_id, slot.subgroup)].append(slot)
    plans = []
    for (subject_id, subgroup), slots in sorted(streams.items(), key=lambda kv: str(kv[0])):
        dates = []
        day = term.start
        while day <= term.end:
            if calendar.is_school_day(day):
                dates += [day for slot in slots if slot.weekday == day.weekday()]
            day += timedelta(days=1)
        lessons = _topics(subject_id, school_class.grade, term.number, dates)
        plans.append(SubjectPlan(school_class.class_id, subject_id, subgroup,
                                 slots[0].teacher_id, term.term_id, tuple(lessons)))
    return plans


def _topics(subject_id: str, grade: int, quarter: int, dates: list[date]) -> list[PlannedLesson]:
    stems = TOPICS[subject_id]
    parts = (ENGLISH_PARTS if subject_id == "english" else
             KYRGYZ_PARTS if subject_id == "kyrgyz_lang" else TOPIC_PARTS)
    assessment = ASSESSMENTS.get(subject_id) if grade >= 2 else None
    lessons, used = [], set()
    per_stem = max(2, len(dates) // max(1, len(stems)) + 1)
    offset = (quarter - 1) * 2 + grade
    for index, day in enumerate(dates):
        stem = stems[(offset + index // per_stem) % len(stems)]
        kind = None
        if assessment is not None and index % 9 == 8:
            kind, template = assessment
            topic = template.format(stem=stem)
        else:
            topic = f"{stem}: {parts[index % len(parts)]}"
        copy = 2
        base = topic
        while topic in used:
            topic = f"{base}, {'part' if subject_id == 'english' else 'часть'} {copy}"
            copy += 1
        used.add(topic)
        lessons.append(PlannedLesson(index + 1, day, topic, kind))
    return lessons
