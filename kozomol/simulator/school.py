"""A realistic school, generated deterministically from a seed (structure only, no activity).

Classes of the chosen grades with parallel letters (А, Б, …), 20–35 students
each with Kyrgyz and Russian names and their parents; the curriculum of a
Russian-language school in Kyrgyzstan (weekly hours per grade); teachers: a
primary teacher per class in grades 1–4 (and specialists for English, Kyrgyz,
physical education and music), subject teachers with one or two related
subjects in grades 5–11; subgroups for English, Kyrgyz and informatics in
classes of 24 students or more; a weekly timetable without gaps and without a
teacher in two places at once; the Kyrgyz school calendar (four quarters, two
half-years, public holidays, vacations) and the calendar-thematic plan (КТП) of
every class, subject and subgroup per quarter (per half-year in grades 10–11),
with its graded work named in the topics; in a Kyrgyz-language school
(``language="ky"``) the topics of non-language subjects are Kyrgyz. Students
join and leave classes during the year (``School.roster_changes``).

The structure alone never breaks a rule of the journal regulation: every plan
date is a lesson of its timetable slot on a school day, topics are clean and
distinct within a plan, grade 1 plans no graded work. The activity generator
builds on it; everything is a pure function of the arguments (one
``random.Random`` seeded from ``seed`` and ``school_number``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from kozomol.simulator.kyrgyz import (
    KYRGYZ_LESSON_WORD,
    KYRGYZ_TOPICS,
    KYRGYZ_VARIANTS,
    KYRGYZ_WORK_NAMES,
)
from kozomol.simulator.model import (
    Calendar,
    PlannedLesson,
    RosterChange,
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
    DICTATION_TITLES,
    KYRGYZ_FEMALE,
    KYRGYZ_MALE,
    KYRGYZ_SURNAMES,
    LAB_TITLES,
    PRACTICAL_TITLES,
    RUSSIAN_FEMALE,
    RUSSIAN_MALE,
    RUSSIAN_SURNAMES,
    SCHOOL_NAMES,
    SPLIT_SUBJECTS,
    SUBJECT_NAMES,
    TOPIC_VARIANTS,
    TOPICS,
    patronymic,
    surname_form,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SATURDAY = 5
LETTERS = (("А", "a"), ("Б", "b"), ("В", "v"), ("Г", "g"), ("Д", "d"), ("Е", "e"),
           ("Ж", "zh"), ("З", "z"))
#: Public holidays of Kyrgyzstan (month, day) that can fall into the school year.
PUBLIC_HOLIDAYS = ((11, 7), (11, 8), (1, 1), (1, 7), (2, 23), (3, 8), (3, 21), (5, 1), (5, 5),
                   (5, 9))
#: Quarters: (start month, day), (end month, day); months before September are in year + 1.
QUARTERS = (((9, 1), (10, 31)), ((11, 10), (12, 29)), ((1, 12), (3, 20)), ((4, 1), (5, 25)))
PERIODS = 8
KYRGYZ_ALPHABET = "абвгдеёжзийклмнңоөпрстуүфхцчшщъыьэюя"

_PRIMARY = {"russian_lang": 4, "reading": 3, "kyrgyz_lang": 3, "english": 2, "math": 4,
            "world": 2, "art": 1, "music": 1, "technology": 1, "pe": 2}
_MIDDLE = {"russian_lang": 3, "literature": 2, "kyrgyz_lang": 3, "english": 3, "algebra": 3,
           "geometry": 2, "informatics": 1, "physics": 2, "chemistry": 2, "biology": 2,
           "geography": 2, "history": 2, "pe": 2}
_SENIOR = {"russian_lang": 2, "literature": 3, "kyrgyz_lang": 2, "english": 3, "algebra": 3,
           "geometry": 2, "informatics": 2, "physics": 3, "chemistry": 2, "biology": 2,
           "geography": 1, "history": 3, "society": 2, "pe": 2}
_FIFTH = {"russian_lang": 5, "literature": 2, "kyrgyz_lang": 3, "english": 3, "math": 5,
          "informatics": 1, "biology": 1, "geography": 1, "history": 2, "art": 1, "music": 1,
          "technology": 2, "pe": 3}
#: Weekly hours per grade (lessons a week): 20, 23, 23, 23, 30, 30, 30, 30, 30, 32, 32.
HOURS: dict[int, dict[str, int]] = {
    1: {**{k: v for k, v in _PRIMARY.items() if k != "english"}, "world": 1},
    2: _PRIMARY, 3: _PRIMARY, 4: _PRIMARY, 5: _FIFTH, 6: _FIFTH,
    7: {**{k: v for k, v in _MIDDLE.items() if k != "chemistry"},
        "art": 1, "music": 1, "technology": 1},
    8: {**_MIDDLE, "technology": 1},
    9: {**_MIDDLE, "society": 1},
    10: _SENIOR, 11: _SENIOR,
}
SUBJECT_ORDER = tuple(SUBJECT_NAMES)
#: What a primary teacher teaches in their own class (the rest: specialists).
PRIMARY_TEACHER_SUBJECTS = ("russian_lang", "reading", "math", "world", "art", "technology")
#: Kinds of subject teacher (the subjects they may teach); a new teacher for a subject is
#: hired as the first kind listing it.
TEACHER_KINDS = (
    ("russian_lang", "literature"), ("kyrgyz_lang",), ("english",), ("math", "informatics"),
    ("algebra", "geometry"), ("physics", "informatics"), ("chemistry", "biology"),
    ("biology", "geography"), ("history", "society"), ("pe",), ("music",),
    ("art", "technology"),
)
#: Subjects one teacher teaches together in a class: the second follows the first.
BUNDLED = {"literature": "russian_lang", "geometry": "algebra", "society": "history"}
MAX_LOAD = 26
#: A teacher's lessons fill at most this share of the periods their classes have in a week.
MAX_FILL = 0.8
SPLIT_MIN_STUDENTS = 24
#: Graded work: control works (english: tests), every 8th to 10th lesson, grades 2–11.
CONTROL_SUBJECTS = ("math", "algebra", "geometry", "physics", "chemistry", "russian_lang",
                    "kyrgyz_lang", "english", "history")
#: Grades planned and marked by half-years instead of quarters.
HALF_YEAR_GRADES = (10, 11)
LANGUAGES = ("ru", "ky")
#: Chance, per class and quarter, that a student leaves (classes without subgroups) or joins.
LEAVE_SHARE = 0.15
JOIN_SHARE = 0.15
PHONE_PREFIXES = ("700", "701", "702", "703", "705", "707", "708", "709", "770", "771", "772",
                  "773", "775", "777", "778", "779", "755", "757")


def generate_school(seed: int, *, school_number: int = 1, parallels: int = 2,
                    grades: Sequence[int] = range(1, 12), academic_year_start: int = 2026,
                    weekend: tuple[str, ...] = ("sun",), language: str = "ru") -> School:
    """The school ``school_number`` of ``seed``: the same arguments give an equal school.

    ``language`` is the language of instruction: "ru", or "ky" (Kyrgyz topics in the
    subjects other than Russian, English and Kyrgyz language and literature).
    """
    grade_list = sorted(set(grades))
    if not grade_list or any(g not in HOURS for g in grade_list):
        raise ValueError("grades must be a non-empty selection of 1..11")
    if not 1 <= parallels <= len(LETTERS):
        raise ValueError(f"parallels must be 1..{len(LETTERS)}")
    if language not in LANGUAGES:
        raise ValueError(f"language of instruction is one of {LANGUAGES}")
    if any(day not in WEEKDAYS for day in weekend):
        raise ValueError(f"weekend days are among {WEEKDAYS}")
    days = tuple(i for i in range(7) if WEEKDAYS[i] not in weekend)
    if not 5 <= len(days) <= 6:
        raise ValueError("a school week has five or six days")
    rng = random.Random(seed * 1_000_003 + school_number)
    school_id = f"sch{school_number:04d}"
    calendar = _calendar(academic_year_start, tuple(weekend))
    people = _People(rng)
    rosters = []
    for grade in grade_list:
        for letter, latin in LETTERS[:parallels]:
            size = rng.randint(20, 35)
            rosters.append(_Roster(f"{grade}{latin}", grade, letter,
                                   [people.student(academic_year_start, grade)
                                    for _ in range(size)]))
    lengths = [_day_lengths(rng, sum(HOURS[roster.grade].values()), days) for roster in rosters]
    staff = _Staff(school_id, people, rosters, lengths)
    timetables = _Timetabler(rng, rosters, staff, lengths).run()
    homerooms = staff.homerooms()
    classes = []
    number = 0
    for index, roster in enumerate(rosters):
        students = []
        ordered = sorted(roster.people, key=lambda p: _alphabetical(p.full_name))
        groups = _subgroups(rng, roster, len(ordered))
        for position, person in enumerate(ordered):
            number += 1
            students.append(Student(f"{school_id}-st{number:05d}", person.full_name,
                                    person.birth_date, person.parents,
                                    {sid: group[position] for sid, group in groups.items()}))
        classes.append(SchoolClass(roster.class_id, roster.grade, roster.letter,
                                   homerooms[index], tuple(students), timetables[index],
                                   by_half_years=roster.grade in HALF_YEAR_GRADES))
    plans = _Planner(rng, calendar, language).plans(classes)
    # Its own generator, so the rest of the school is the same with or without these.
    changes = _roster_changes(random.Random(f"roster:{seed}:{school_number}"), people,
                              school_id=school_id, number=number, classes=classes,
                              calendar=calendar, year=academic_year_start)
    subjects = {sid: Subject(sid, name, is_language, sid in SPLIT_SUBJECTS)
                for sid, (name, is_language) in SUBJECT_NAMES.items()}
    school_name = rng.choice(SCHOOL_NAMES).format(n=school_number)
    address, director, deputies = _administration(seed, school_number, people)
    return School(
        school_id=school_id,
        name=school_name,
        language_of_instruction=language,
        calendar=calendar,
        subjects=subjects,
        teachers=staff.teachers(),
        classes=tuple(classes),
        plans=plans,
        roster_changes=changes,
        address=address,
        director_name=director,
        deputy_directors=deputies,
    )


def _roster_changes(rng: random.Random, people: _People, *, school_id: str, number: int,
                    classes: list[SchoolClass], calendar: Calendar, year: int
                    ) -> tuple[RosterChange, ...]:
    """Joiners and leavers: per class and quarter, now and then one student leaves (from a
    class without subgroups) and one joins (early enough in the quarter to be marked)."""
    people.rng = rng
    changes: list[RosterChange] = []
    for term in calendar.terms:
        days = [term.start + timedelta(days=d) for d in range((term.end - term.start).days + 1)]
        days = [day for day in days if calendar.is_school_day(day)]
        for school_class in classes:
            moved = {c.student.student_id for c in changes if c.class_id == school_class.class_id}
            split = any(slot.subgroup for slot in school_class.timetable)
            if not split and rng.random() < LEAVE_SHARE:
                staying = [s for s in school_class.students if s.student_id not in moved]
                changes.append(RosterChange(school_class.class_id, rng.choice(days[5:-6]),
                                            rng.choice(staying), joins=False))
            if rng.random() < JOIN_SHARE:
                number += 1
                person = people.student(year, school_class.grade)
                subgroups = {subject_id: rng.choice(("1", "2")) for subject_id in
                             sorted({slot.subject_id for slot in school_class.timetable
                                     if slot.subgroup})}
                student = Student(f"{school_id}-st{number:05d}", person.full_name,
                                  person.birth_date, person.parents, subgroups)
                changes.append(RosterChange(school_class.class_id,
                                            rng.choice(days[3:len(days) // 2]), student,
                                            joins=True))
    return tuple(sorted(changes, key=lambda c: (c.day, c.class_id, c.student.student_id)))


STREETS = ("ул. Киевская", "ул. Токтогула", "ул. Московская", "пр. Чуй", "ул. Исанова",
           "ул. Ахунбаева", "ул. Боконбаева", "пр. Манаса", "ул. Фрунзе", "ул. Орозбекова")
DEPUTY_AREAS = ("по учебно-воспитательной работе", "по воспитательной работе")


def _administration(seed: int, school_number: int, people: _People,
                    ) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """The school's address, director and deputies, from a random stream of their own
    (so adding them changed nothing else a seed gives); names unique among the staff."""
    own = _People(random.Random(f"administration:{seed}:{school_number}"))
    own._names = set(people._names)
    address = (f"720000, Кыргызская Республика, г. Бишкек, "
               f"{own.rng.choice(STREETS)}, {own.rng.randint(1, 250)}")
    director = own.teacher(0.6)
    deputies = tuple((own.teacher(0.8), area) for area in DEPUTY_AREAS)
    return address, director, deputies


# the calendar ---------------------------------------------------------------------------
def _calendar(year: int, weekend: tuple[str, ...]) -> Calendar:
    def on(month: int, day: int) -> date:
        return date(year if month >= 9 else year + 1, month, day)

    public = {on(month, day) for month, day in PUBLIC_HOLIDAYS}

    def school_day(day: date) -> bool:
        return WEEKDAYS[day.weekday()] not in weekend and day not in public

    terms = []
    for number, (first, last) in enumerate(QUARTERS, start=1):
        start, end = on(*first), on(*last)
        while not school_day(start):
            start += timedelta(days=1)
        while not school_day(end):
            end -= timedelta(days=1)
        terms.append(Term(f"{year}-{year + 1}-q{number}", "quarter", number, start, end))
    half_years = tuple(Term(f"{year}-{year + 1}-h{number}", "half_year", number,
                            terms[2 * number - 2].start, terms[2 * number - 1].end)
                       for number in (1, 2))
    holidays = []
    day = terms[0].start
    while day <= terms[-1].end:
        in_term = any(t.start <= day <= t.end for t in terms)
        if WEEKDAYS[day.weekday()] not in weekend and (day in public or not in_term):
            holidays.append(day)
        day += timedelta(days=1)
    bells, minute = [], 8 * 60
    for period in range(1, PERIODS + 1):
        end_minute = minute + 45
        bells.append((time(minute // 60, minute % 60), time(end_minute // 60, end_minute % 60)))
        minute = end_minute + (20 if period == 3 else 10)
    return Calendar(
        academic_year=f"{year}-{year + 1}", timezone="Asia/Bishkek", weekend=weekend,
        terms=tuple(terms),
        year_term=Term(f"{year}-{year + 1}-y", "year", 1, terms[0].start, terms[-1].end),
        holidays=tuple(holidays), bell_times=tuple(bells), half_years=half_years)


# people -------------------------------------------------------------------------------------
@dataclass
class _Person:
    full_name: str
    birth_date: date
    parents: tuple[tuple[str, str, str], ...]


@dataclass
class _Roster:
    class_id: str
    grade: int
    letter: str
    people: list[_Person]

    @property
    def split(self) -> bool:
        return self.grade >= 5 and len(self.people) >= SPLIT_MIN_STUDENTS


def _alphabetical(name: str) -> tuple[int, ...]:
    """Sort key of a name in the order of the Kyrgyz Cyrillic alphabet (ң after н, …)."""
    return tuple(KYRGYZ_ALPHABET.find(ch) if ch in KYRGYZ_ALPHABET else 100 + ord(ch)
                 for ch in name.lower())


class _People:
    """Invented people: students with parents, and teachers; full names unique per school."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._names: set[str] = set()
        self._phones: set[str] = set()

    def adult(self, female: bool, kyrgyz: bool, surname: str | None = None,
              first: str | None = None) -> str:
        rng = self.rng
        males = KYRGYZ_MALE if kyrgyz else RUSSIAN_MALE
        name = ""
        for attempt in range(100):
            if attempt == 20:  # the name is taken: someone else altogether
                surname = first = None
            base = surname or rng.choice(KYRGYZ_SURNAMES if kyrgyz else RUSSIAN_SURNAMES)
            given = first or rng.choice((KYRGYZ_FEMALE if kyrgyz else RUSSIAN_FEMALE)
                                        if female else males)
            name = (f"{surname_form(base, female=female)} {given} "
                    f"{patronymic(rng.choice(males), female=female)}")
            if name not in self._names:
                break
        self._names.add(name)
        return name

    def phone(self) -> str:
        while True:
            phone = f"+996{self.rng.choice(PHONE_PREFIXES)}{self.rng.randint(0, 999_999):06d}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def student(self, year: int, grade: int) -> _Person:
        rng = self.rng
        kyrgyz = rng.random() < 0.7
        males = KYRGYZ_MALE if kyrgyz else RUSSIAN_MALE
        female = rng.random() < 0.5
        surname = father = full_name = ""
        for _ in range(100):
            surname = rng.choice(KYRGYZ_SURNAMES if kyrgyz else RUSSIAN_SURNAMES)
            father = rng.choice(males)
            first = rng.choice((KYRGYZ_FEMALE if kyrgyz else RUSSIAN_FEMALE) if female
                               else males)
            full_name = (f"{surname_form(surname, female=female)} {first} "
                         f"{patronymic(father, female=female)}")
            if full_name not in self._names:
                break
        self._names.add(full_name)
        # grade 1 is born 6 to 7 years before the school year starts, each grade a year earlier
        born = date(year - 6 - grade, 1, 1) + timedelta(days=rng.randint(0, 364 + 120))
        parents = []
        family = rng.random()
        if family < 0.85:  # a mother (most keep the family's surname)
            own = surname if rng.random() < 0.85 else None
            parents.append((self.adult(True, kyrgyz, own), "mother", self.phone()))
        if family < 0.55 or 0.85 <= family < 0.93:  # the father, whose name the child bears
            parents.append((self.adult(False, kyrgyz, surname, father), "father",
                            self.phone()))
        if family >= 0.93:  # a grandparent or another guardian
            parents.append((self.adult(rng.random() < 0.7, kyrgyz, surname), "guardian",
                            self.phone()))
        return _Person(full_name, born, tuple(parents))

    def teacher(self, female_share: float) -> str:
        return self.adult(self.rng.random() < female_share, self.rng.random() < 0.7)


def _subgroups(rng: random.Random, roster: _Roster, size: int) -> dict[str, list[str]]:
    """Per split subject, the subgroup of each student (in roster order), halves balanced."""
    if not roster.split:
        return {}
    groups = {}
    for subject_id in SPLIT_SUBJECTS:
        if subject_id in HOURS[roster.grade]:
            first = set(rng.sample(range(size), (size + 1) // 2))
            groups[subject_id] = ["1" if i in first else "2" for i in range(size)]
    return groups


# teachers ----------------------------------------------------------------------------------
@dataclass
class _Teacher:
    teacher_id: str
    full_name: str
    kind: tuple[str, ...]          # subjects they may teach; ("primary",) for grades 1–4
    limit: int                     # the load they are hired for
    load: int = 0
    subjects: list[str] = field(default_factory=list)
    classes: dict[int, int] = field(default_factory=dict)  # class index -> lessons a week
    cells: set[tuple[int, int]] = field(default_factory=set)  # (weekday, period) of classes


@dataclass
class _Unit:
    """A teacher's share of one class: a subject (with its bundled subject) or a subgroup."""

    class_index: int
    subjects: tuple[str, ...]
    subgroup: str | None
    hours: int
    teacher: str = ""


class _Staff:
    """Hires the teachers the curriculum needs, loads balanced, at most ``MAX_LOAD`` a week."""

    def __init__(self, school_id: str, people: _People, rosters: list[_Roster],
                 lengths: list[dict[int, int]]) -> None:
        self.school_id, self.people, self.rosters = school_id, people, rosters
        self.cells = [{(d, p) for d, n in day_lengths.items() for p in range(1, n + 1)}
                      for day_lengths in lengths]
        self._teachers: list[_Teacher] = []
        self.units: list[_Unit] = []
        self.primary: dict[int, str] = {}
        for index, roster in enumerate(rosters):
            if roster.grade <= 4:
                own = tuple(s for s in PRIMARY_TEACHER_SUBJECTS if s in HOURS[roster.grade])
                hours = sum(HOURS[roster.grade][s] for s in own)
                teacher = self._hire(("primary",), hours, female_share=0.9)
                self.primary[index] = teacher.teacher_id
                self._give(teacher, _Unit(index, own, None, hours))
        for subject_id in SUBJECT_ORDER:
            if subject_id not in BUNDLED:
                self._staff(subject_id, self._units(subject_id))

    def _units(self, subject_id: str) -> list[_Unit]:
        units = []
        for index, roster in enumerate(self.rosters):
            hours = HOURS[roster.grade]
            if subject_id not in hours or (index in self.primary
                                           and subject_id in PRIMARY_TEACHER_SUBJECTS):
                continue
            together = (subject_id, *(s for s, lead in BUNDLED.items()
                                      if lead == subject_id and s in hours))
            total = sum(hours[s] for s in together)
            groups: tuple[str | None, ...] = (
                ("1", "2") if roster.split and subject_id in SPLIT_SUBJECTS else (None,))
            units += [_Unit(index, together, group, total) for group in groups]
        return units

    def _hire(self, kind: tuple[str, ...], limit: int, female_share: float = 0.75) -> _Teacher:
        teacher = _Teacher(f"{self.school_id}-t{len(self._teachers) + 1:03d}",
                           self.people.teacher(female_share), kind, limit)
        self._teachers.append(teacher)
        return teacher

    def _give(self, teacher: _Teacher, unit: _Unit) -> None:
        unit.teacher = teacher.teacher_id
        teacher.load += unit.hours
        teacher.classes[unit.class_index] = teacher.classes.get(unit.class_index, 0) + unit.hours
        teacher.subjects += [s for s in unit.subjects if s not in teacher.subjects]
        teacher.cells |= self.cells[unit.class_index]
        self.units.append(unit)

    def _staff(self, subject_id: str, units: list[_Unit]) -> None:
        """First fit in hiring order (a teacher keeps neighbouring grades); a new teacher is
        hired for an even share of what is left; the two subgroups of a class differ."""
        if not units:
            return
        home = next(kind for kind in TEACHER_KINDS if subject_id in kind)
        for position, unit in enumerate(units):
            other_group = {u.teacher for u in self.units
                           if u.class_index == unit.class_index and u.subjects == unit.subjects}
            for teacher in self._teachers:
                limit = teacher.limit if teacher.subjects[:1] == [subject_id] else MAX_LOAD
                if (subject_id in teacher.kind and teacher.teacher_id not in other_group
                        and teacher.load + unit.hours <= limit
                        and teacher.load + unit.hours <= MAX_FILL * len(
                            teacher.cells | self.cells[unit.class_index])):
                    break
            else:
                remaining = sum(u.hours for u in units[position:])
                count = math.ceil(remaining / MAX_LOAD)
                limit = min(MAX_LOAD, math.ceil(remaining / count) + 2)
                teacher = self._hire(home, max(limit, unit.hours),
                                     female_share=0.45 if subject_id == "pe" else 0.75)
            self._give(teacher, unit)

    def teachers(self) -> dict[str, Teacher]:
        return {t.teacher_id: Teacher(t.teacher_id, t.full_name,
                                      tuple(s for s in SUBJECT_ORDER if s in t.subjects))
                for t in self._teachers}

    def loads(self) -> dict[str, int]:
        return {t.teacher_id: t.load for t in self._teachers}

    def homerooms(self) -> list[str]:
        """A homeroom teacher per class, all distinct: the primary teacher in grades 1–4, else a
        subject teacher of the class (the one with most lessons in it first), matched."""
        result: dict[int, str] = dict(self.primary)
        primary = set(self.primary.values())
        candidates: dict[int, list[str]] = {}
        for index in range(len(self.rosters)):
            if index not in result:
                staff = [t for t in self._teachers if t.teacher_id not in primary]
                teaching = sorted((t for t in staff if index in t.classes),
                                  key=lambda t: -t.classes[index])
                candidates[index] = [t.teacher_id for t in teaching] + [
                    t.teacher_id for t in staff if index not in t.classes]
        owner: dict[str, int] = {}

        def assign(index: int, seen: set[str]) -> bool:
            for teacher_id in candidates[index]:
                if teacher_id not in seen:
                    seen.add(teacher_id)
                    if teacher_id not in owner or assign(owner[teacher_id], seen):
                        owner[teacher_id] = index
                        return True
            return False

        for index, options in candidates.items():
            if not assign(index, set()):  # more classes than teachers: one more teacher
                teacher = self._hire(("history", "society"), MAX_LOAD)
                teacher.subjects.append("history")
                options.append(teacher.teacher_id)
                assign(index, set())
        result.update({index: teacher_id for teacher_id, index in owner.items()})
        return [result[index] for index in range(len(self.rosters))]


# the timetable -------------------------------------------------------------------------------
def _day_lengths(rng: random.Random, hours: int, days: tuple[int, ...]) -> dict[int, int]:
    """Lessons a day (periods 1..N): as even as can be, a shorter Saturday, longer weekdays."""
    base, extra = divmod(hours, len(days))
    lengths = dict.fromkeys(days, base)
    weekdays = [d for d in days if d != SATURDAY]
    if SATURDAY in lengths and base >= 4:
        lengths[SATURDAY] -= 1
        extra += 1
    while extra:
        for day in rng.sample(weekdays, min(extra, len(weekdays))):
            lengths[day] += 1
            extra -= 1
    if max(lengths.values()) > PERIODS:
        raise ValueError("more lessons a day than the bell schedule has")
    return lengths


@dataclass
class _Item:
    """One lesson (or double lesson) of a class's week, to place at a weekday and period."""

    class_index: int
    subject_id: str
    teachers: tuple[str, ...]       # one, or two for a split subject (subgroups 1 and 2)
    length: int                     # 2 for a double lesson
    cap: int                        # most single lessons of the subject a day


class _Timetabler:
    """Places every class's lessons in its week: periods 1..N of each day without gaps, no
    teacher in two places at once, a subject at most once a day (twice if it has more
    lessons than the week has days, or as a double lesson).

    Lessons are placed hardest first; one that finds no free cell moves lessons of its
    class aside (two deep), or the lessons of other classes that hold its teachers; a dead
    end starts over in another order.
    """

    def __init__(self, rng: random.Random, rosters: list[_Roster], staff: _Staff,
                 lengths: list[dict[int, int]]) -> None:
        self.rng, self.rosters, self.staff, self.lengths = rng, rosters, staff, lengths
        self.days = len(lengths[0])
        self.items: list[_Item] = []
        for index, roster in enumerate(rosters):
            self.items += self._items(index, roster)
        self.cells = [[(d, p) for d in sorted(day_lengths) for p in range(1, day_lengths[d] + 1)]
                      for day_lengths in lengths]

    def _items(self, index: int, roster: _Roster) -> list[_Item]:
        hours = HOURS[roster.grade]
        teacher_of: dict[tuple[str, str | None], str] = {}
        for unit in self.staff.units:
            if unit.class_index == index:
                for subject_id in unit.subjects:
                    teacher_of[(subject_id, unit.subgroup)] = unit.teacher
        double = ""
        if roster.grade in (5, 6):
            double = "technology"
        elif roster.grade >= 10:
            double = self.rng.choice(("literature", "history", "physics"))
        items = []
        for subject_id in SUBJECT_ORDER:
            count = hours.get(subject_id, 0)
            if not count:
                continue
            if (subject_id, None) in teacher_of:
                teachers: tuple[str, ...] = (teacher_of[(subject_id, None)],)
            else:
                teachers = (teacher_of[(subject_id, "1")], teacher_of[(subject_id, "2")])
            cap = 1 if count <= self.days else 2
            if subject_id == double and len(teachers) == 1:
                items.append(_Item(index, subject_id, teachers, 2, 2))
                count -= 2
            items += [_Item(index, subject_id, teachers, 1, cap) for _ in range(count)]
        return items

    # the state, with an undo log ------------------------------------------------------------
    def _reset(self) -> None:
        self.at: list[tuple[int, int] | None] = [None] * len(self.items)
        self.grid: dict[tuple[int, int, int], int] = {}
        self.busy: dict[tuple[str, int, int], int] = {}
        self.per_day: dict[tuple[int, str, int], int] = {}
        self.log: list[tuple[bool, int, int, int]] = []

    def _set(self, i: int, day: int, period: int, on: bool) -> None:
        item = self.items[i]
        for k in range(item.length):
            if on:
                self.grid[(item.class_index, day, period + k)] = i
            else:
                del self.grid[(item.class_index, day, period + k)]
            for teacher in item.teachers:
                if on:
                    self.busy[(teacher, day, period + k)] = i
                else:
                    del self.busy[(teacher, day, period + k)]
        key = (item.class_index, item.subject_id, day)
        self.per_day[key] = self.per_day.get(key, 0) + (item.length if on else -item.length)
        self.at[i] = (day, period) if on else None

    def _place(self, i: int, day: int, period: int) -> None:
        self._set(i, day, period, True)
        self.log.append((True, i, day, period))

    def _remove(self, i: int) -> None:
        position = self.at[i]
        assert position is not None
        self._set(i, *position, False)
        self.log.append((False, i, *position))

    def _rollback(self, mark: int) -> None:
        while len(self.log) > mark:
            placed, i, day, period = self.log.pop()
            self._set(i, day, period, not placed)

    def _fits(self, i: int, day: int, period: int) -> bool:
        item = self.items[i]
        ci = item.class_index
        if period + item.length - 1 > self.lengths[ci][day]:
            return False
        for k in range(item.length):
            if (ci, day, period + k) in self.grid:
                return False
            for teacher in item.teachers:
                if (teacher, day, period + k) in self.busy:
                    return False
        count = self.per_day.get((ci, item.subject_id, day), 0)
        return count == 0 if item.length == 2 else count < item.cap

    # placing ----------------------------------------------------------------------------------
    def _try(self, i: int, depth: int, banned: tuple[tuple[int, int], ...] = ()) -> bool:
        ci = self.items[i].class_index
        free = [c for c in self.cells[ci] if c not in banned and self._fits(i, *c)]
        if free:
            self._place(i, *self.rng.choice(free))
            return True
        if depth == 0:
            return False
        occupied = [c for c in self.cells[ci] if c not in banned and (ci, *c) in self.grid
                    and self.items[self.grid[(ci, *c)]].length == 1]
        self.rng.shuffle(occupied)
        for cell in occupied:
            j = self.grid[(ci, *cell)]
            mark = len(self.log)
            self._remove(j)
            if self._fits(i, *cell):
                self._place(i, *cell)
                if self._try(j, depth - 1, (*banned, cell)):
                    return True
            self._rollback(mark)
        return False

    def _clear_the_way(self, i: int) -> bool:
        """Move aside the lessons of other classes that hold this lesson's teachers."""
        item = self.items[i]
        ci = item.class_index
        cells = [c for c in self.cells[ci] if (ci, *c) not in self.grid]
        self.rng.shuffle(cells)
        for day, period in cells:
            if self.per_day.get((ci, item.subject_id, day), 0) >= item.cap:
                continue
            blockers = sorted({self.busy[(t, day, period)] for t in item.teachers
                               if (t, day, period) in self.busy})
            if any(self.items[j].length != 1 for j in blockers):
                continue
            mark = len(self.log)
            for j in blockers:
                self._remove(j)
            if self._fits(i, day, period) and all(self._try(j, 1, ((day, period),))
                                                  for j in blockers) \
                    and self._fits(i, day, period):
                self._place(i, day, period)
                return True
            self._rollback(mark)
        return False

    def run(self) -> list[tuple[Slot, ...]]:
        load = self.staff.loads()
        for _attempt in range(100):
            self._reset()
            keys = [(-item.length, -len(item.teachers), -max(load[t] for t in item.teachers),
                     self.rng.random()) for item in self.items]
            order = sorted(range(len(self.items)), key=keys.__getitem__)
            if all(self._try(i, 2) or self._clear_the_way(i) for i in order):
                return self._slots()
        raise RuntimeError("no timetable found for this school")

    def _slots(self) -> list[tuple[Slot, ...]]:
        slots: list[list[Slot]] = [[] for _ in self.rosters]
        for i, item in enumerate(self.items):
            position = self.at[i]
            assert position is not None
            day, period = position
            for k in range(item.length):
                groups = ("1", "2") if len(item.teachers) == 2 else (None,)
                slots[item.class_index] += [
                    Slot(day, period + k, item.subject_id, group, teacher)
                    for group, teacher in zip(groups, item.teachers, strict=True)]
        return [tuple(sorted(s, key=lambda x: (x.weekday, x.period, x.subgroup or "")))
                for s in slots]


# the КТП -------------------------------------------------------------------------------------
class _Planner:
    """The calendar-thematic plans: the dates of every slot's lessons in each quarter (each
    half-year for grades 10–11), a distinct topic for each, graded work spread over the
    weeks and named in its topic."""

    def __init__(self, rng: random.Random, calendar: Calendar, language: str = "ru") -> None:
        self.rng, self.calendar, self.language = rng, calendar, language
        self.school_days = []
        for term in calendar.terms:
            days, day = [], term.start
            while day <= term.end:
                if calendar.is_school_day(day):
                    days.append(day)
                day += timedelta(days=1)
            self.school_days.append(days)
        total = sum(len(days) for days in self.school_days)
        self.bounds = [sum(len(days) for days in self.school_days[:n]) / total
                       for n in range(len(self.school_days) + 1)]

    def plans(self, classes: list[SchoolClass]) -> tuple[SubjectPlan, ...]:
        plans = []
        for school_class in classes:
            streams: dict[tuple[str, str | None], list[Slot]] = {}
            for slot in school_class.timetable:
                streams.setdefault((slot.subject_id, slot.subgroup), []).append(slot)
            for subject_id in SUBJECT_ORDER:
                keys = sorted((k for k in streams if k[0] == subject_id),
                              key=lambda k: k[1] or "")
                if not keys:
                    continue
                periods: dict[int, list[int]] = {}
                for slot in streams[keys[0]]:
                    periods.setdefault(slot.weekday, []).append(slot.period)
                counters = dict.fromkeys(("control", "test", "lab", "practical", "dictation",
                                          "essay"), 0)
                start = self.rng.randrange(len(DICTATION_TITLES))
                # (the plan's term, the indexes of the quarters it spans)
                spans = ([(h, (2 * h.number - 2, 2 * h.number - 1))
                          for h in self.calendar.half_years] if school_class.by_half_years
                         else [(t, (n, n)) for n, t in enumerate(self.calendar.terms)])
                for term, (first, last) in spans:
                    by_quarter = [[day for day in self.school_days[quarter]
                                   for _ in periods.get(day.weekday(), ())]
                                  for quarter in range(first, last + 1)]
                    dates = [day for quarter_dates in by_quarter for day in quarter_dates]
                    edges: set[int] = set()
                    offset = 0
                    for quarter_dates in by_quarter:  # a quarter's first and last lesson
                        edges |= {offset, offset + len(quarter_dates) - 1}
                        offset += len(quarter_dates)
                    lessons = self._lessons(subject_id, school_class.grade, (first, last),
                                            dates, edges, counters=counters, start=start)
                    plans += [SubjectPlan(school_class.class_id, subject_id, key[1],
                                          streams[key][0].teacher_id, term.term_id, lessons)
                              for key in keys]
        return tuple(plans)

    @staticmethod
    def _kinds(subject_id: str, grade: int, count: int) -> list[tuple[str, int]]:
        """Graded work other than control works: (kind, how many) in a quarter."""
        kinds = []
        if subject_id == "russian_lang":
            kinds.append(("dictation", 2 if count >= 35 else 1))
        if grade in LAB_TITLES.get(subject_id, {}):
            kinds.append(("lab", 1 if subject_id == "biology" or count < 20 else 2))
        if grade in PRACTICAL_TITLES.get(subject_id, {}):
            kinds.append(("practical", max(1, min(3, count // 4))
                          if subject_id == "informatics" else 1))
        if subject_id == "literature":
            kinds.append(("essay", 2 if count >= 24 else 1))
        return kinds

    def _assessments(self, subject_id: str, grade: int, dates: list[date],
                     edges: set[int]) -> dict[int, str]:
        """Lesson index -> kind of graded work: none in grade 1, at most one a week, never the
        first or the last lesson of a quarter (``edges``); control works every 8th to 10th
        lesson."""
        count = len(dates)
        chosen: dict[int, str] = {}
        if grade < 2 or count < 4:
            return chosen
        weeks = [day.isocalendar()[:2] for day in dates]
        used: set[tuple[int, int]] = set()

        def put(kind: str, target: int) -> None:
            for delta in range(count):
                for index in (target + delta, target - delta):
                    if (1 <= index <= count - 2 and index not in chosen
                            and index not in edges and weeks[index] not in used):
                        chosen[index] = kind
                        used.add(weeks[index])
                        return

        if subject_id in CONTROL_SUBJECTS:
            kind = "test" if subject_id == "english" else "control"
            target = self.rng.randint(8, 10) - 1
            while target <= count - 2:
                put(kind, target)
                target += self.rng.randint(8, 10)
        for kind, times in self._kinds(subject_id, grade, count):
            for n in range(times):
                put(kind, round((n + 0.5) * count / times))
        return chosen

    def _kyrgyz(self, subject_id: str) -> bool:
        return self.language == "ky" and subject_id in KYRGYZ_TOPICS

    def _stems(self, subject_id: str, grade: int, quarters: tuple[int, int],
               needed: int) -> list[str]:
        """These quarters' share of the year's stems; more if their variants would not do."""
        stems = TOPICS[subject_id][grade]
        if self._kyrgyz(subject_id):  # the same stems for every grade, each from elsewhere
            shift = grade % len(KYRGYZ_TOPICS[subject_id])
            stems = KYRGYZ_TOPICS[subject_id][shift:] + KYRGYZ_TOPICS[subject_id][:shift]
        first = round(self.bounds[quarters[0]] * len(stems))
        last = max(first + 1, round(self.bounds[quarters[1] + 1] * len(stems)))
        chunk = list(stems[first:last])
        variants = len(self._variants(subject_id))
        extra = list(stems[last:] + stems[:first])
        while extra and len(chunk) * variants < needed:
            chunk.append(extra.pop(0))
        return chunk[:max(1, needed)]

    def _variants(self, subject_id: str) -> tuple[str, ...]:
        return KYRGYZ_VARIANTS if self._kyrgyz(subject_id) else TOPIC_VARIANTS[subject_id]

    def _lessons(self, subject_id: str, grade: int, quarters: tuple[int, int],
                 dates: list[date], edges: set[int], *, counters: dict[str, int],
                 start: int) -> tuple[PlannedLesson, ...]:
        graded = self._assessments(subject_id, grade, dates, edges)
        needed = len(dates) - len(graded)
        stems = self._stems(subject_id, grade, quarters, needed)
        variants = self._variants(subject_id)
        lesson_word = ("lesson" if subject_id == "english" else
                       KYRGYZ_LESSON_WORD if self._kyrgyz(subject_id) else "занятие")
        base, extra = divmod(needed, len(stems))
        ordinary: list[tuple[str, str]] = []
        for n, stem in enumerate(stems):
            for k in range(base + (n < extra)):
                ordinary.append((stem, variants[k].format(stem) if k < len(variants)
                                 else f"{stem}: {lesson_word} {k - len(variants) + 2}"))
        ordinary.reverse()
        lessons, used = [], set()
        current = stems[0]
        for index, day in enumerate(dates):
            kind = graded.get(index)
            if kind is None:
                current, topic = ordinary.pop()
            else:
                counters[kind] += 1
                kyrgyz_title = self.language == "ky" and kind in KYRGYZ_WORK_NAMES and (
                    self._kyrgyz(subject_id) or subject_id == "kyrgyz_lang")
                topic = (f"{KYRGYZ_WORK_NAMES[kind]} № {counters[kind]}: «{current}»"
                         if kyrgyz_title else
                         self._graded_topic(kind, subject_id, grade, current,
                                            number=counters[kind], start=start))
            while topic in used:  # never seen: stems, titles and numbers differ
                topic += (": continued" if subject_id == "english" else
                          ": уландысы" if self._kyrgyz(subject_id) else ": продолжение")
            used.add(topic)
            lessons.append(PlannedLesson(index + 1, day, topic, kind))
        return tuple(lessons)

    @staticmethod
    def _graded_topic(kind: str, subject_id: str, grade: int, stem: str, *, number: int,
                      start: int) -> str:
        if kind == "test":
            return f"Test {number}: {stem}"
        if kind == "control":
            return f"Контрольная работа № {number} по теме «{stem}»"
        if kind == "dictation":
            title = DICTATION_TITLES[(start + number - 1) % len(DICTATION_TITLES)]
            return (f"Диктант № {number} «{title}»" if grade <= 4
                    else f"Контрольный диктант № {number} «{title}»")
        if kind == "lab":
            titles = LAB_TITLES[subject_id][grade]
            return f"Лабораторная работа № {number} «{titles[(number - 1) % len(titles)]}»"
        if kind == "practical":
            titles = PRACTICAL_TITLES[subject_id][grade]
            return f"Практическая работа № {number} «{titles[(number - 1) % len(titles)]}»"
        if "«" in stem:  # a work: "Повесть Пушкина «Дубровский»"
            return f"Сочинение по произведению: {stem[0].lower()}{stem[1:]}"
        return f"Сочинение по теме «{stem}»"
