"""What the simulated teachers get wrong, and the ground truth of it.

Each fault is planted on purpose by the activity generator, breaks exactly
one rule of the catalog (``../shared/spec/rules.md`` ids), and is written to the
ground truth exactly once, so the checker can be scored against it. With every
rate at zero the simulated school breaks no rule at all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO

#: Every rule id of the catalog v1; the rates below carry the same names.
RULES = (
    "lesson.topic.late", "attendance.late", "homework.late", "substitution.unrecorded",
    "mark.value.invalid", "mark.work_type.missing", "mark.late", "mark.date.not_lesson",
    "marks.density.low", "mark.failing.no_followup", "mark.failing.first_day_of_term",
    "mark.failing.after_absence", "topic.placeholder", "topic.double_lesson_duplicate",
    "topic.abbreviation", "topic.language", "topic.assessment_unnamed",
    "subgroup.wrong_teacher", "final_mark.late", "final_mark.insufficient_marks",
    "final_mark.inconsistent", "program.behind_plan", "absence.reason_missing",
    "personal_data.unverified",
    "homework.grade_not_allowed", "homework.load.excessive", "homework.not_ahead",
    "journal.not_visited",
)

#: Default share of eligible entities that get each fault. The eligible entity
#: is a lesson, a mark, a student's subject in a term, a class-subject, or a
#: class, as the rule concerns; the rates are chosen so a quarter of one school
#: plants every rule several times without drowning the clean entries.
DEFAULT_RATES: dict[str, float] = {
    "lesson.topic.late": 0.01, "attendance.late": 0.01, "homework.late": 0.01,
    "substitution.unrecorded": 0.003, "mark.value.invalid": 0.001,
    "mark.work_type.missing": 0.002, "mark.late": 0.003, "mark.date.not_lesson": 0.001,
    "marks.density.low": 0.02, "mark.failing.no_followup": 0.002,
    "mark.failing.first_day_of_term": 0.05, "mark.failing.after_absence": 0.01,
    "topic.placeholder": 0.004, "topic.double_lesson_duplicate": 0.05,
    "topic.abbreviation": 0.004, "topic.language": 0.003,
    "topic.assessment_unnamed": 0.03, "subgroup.wrong_teacher": 0.01,
    "final_mark.late": 0.003, "final_mark.insufficient_marks": 0.002,
    "final_mark.inconsistent": 0.003, "program.behind_plan": 0.03,
    "absence.reason_missing": 0.01, "personal_data.unverified": 0.1,
    "homework.grade_not_allowed": 0.01, "homework.load.excessive": 0.005,
    "homework.not_ahead": 0.005, "journal.not_visited": 0.01,
}

PLACEHOLDER_TOPICS = ("—", "-", "--", "повтор", "то же", "тоже", "см. выше", "...", "〃",
                      "-//-", "//", "То же самое", "тоже самое", "Аналогично")
ABBREVIATED_TOPICS = ("к/р", "пр.р.", "контр.", "сам. раб.", "упр.", "стр.", "р/р", "д/з",
                      "вн. чт.", "т.е.")
#: Non-Russian topics for non-language subjects of a Russian-language school: transliterated,
#: or Kyrgyz (a Kyrgyz-language school's are in ``kyrgyz.py``).
FOREIGN_TOPICS = (
    "Naturalnye chisla i shkaly", "Povtorenie proydennogo materiala",
    "Сандардын түрлөрү жана өзгөчөлүктөрү", "Өсүмдүктөрдүн түзүлүшү",
)
INVALID_MARK_VALUES = ("1", "0", "6", "+", "н/а")


@dataclass(frozen=True)
class FaultRates:
    rates: dict[str, float]

    @classmethod
    def none(cls) -> FaultRates:
        return cls({rule: 0.0 for rule in RULES})

    @classmethod
    def default(cls, scale: float = 1.0) -> FaultRates:
        return cls({rule: min(1.0, DEFAULT_RATES[rule] * scale) for rule in RULES})

    def __getitem__(self, rule: str) -> float:
        return self.rates[rule]

    def with_rates(self, **changes: float) -> FaultRates:
        unknown = set(changes) - set(RULES)
        if unknown:
            raise ValueError(f"no such rule: {sorted(unknown)}")
        return FaultRates({**self.rates, **changes})


@dataclass(frozen=True)
class PlantedFault:
    """One deliberate fault: the rule it breaks and the entity it concerns."""

    rule: str
    school_id: str
    date: str                 # the date the finding concerns (ISO)
    class_id: str | None = None
    subject_id: str | None = None
    subgroup: str | None = None
    teacher_id: str | None = None
    student_id: str | None = None
    lesson_id: str | None = None
    mark_id: str | None = None
    term_id: str | None = None
    note: str = ""

    def key(self) -> tuple[str, ...]:
        """What identifies the finding this fault must produce (see ``finding_key``)."""
        return finding_key(self.rule, self.school_id, lesson_id=self.lesson_id,
                           mark_id=self.mark_id, class_id=self.class_id,
                           subject_id=self.subject_id, subgroup=self.subgroup,
                           student_id=self.student_id, term_id=self.term_id, date=self.date)


def finding_key(rule: str, school_id: str, **entity: str | None) -> tuple[str, ...]:
    """The identity of a finding of ``rule``: the fields that tell two findings apart.

    Lesson rules are per lesson, mark rules per mark, term rules per student,
    subject and term, and so on; scoring compares these keys.
    """
    def part(name: str) -> str:
        return str(entity.get(name) or "")

    parts: tuple[str, ...]
    if rule == "absence.reason_missing":
        parts = ("lesson_id", "student_id")
    elif rule == "homework.load.excessive":
        parts = ("class_id", "date")
    elif rule == "journal.not_visited":
        parts = ("class_id", "student_id")
    elif rule.startswith(("lesson.", "attendance.", "homework.", "substitution.", "topic.",
                          "subgroup.")):
        parts = ("lesson_id",)
    elif rule.startswith("mark."):
        parts = ("mark_id",)
    elif rule.startswith("final_mark."):
        parts = ("student_id", "subject_id", "term_id")
    elif rule == "marks.density.low":
        parts = ("class_id", "subject_id", "subgroup", "date")
    elif rule == "program.behind_plan":
        parts = ("class_id", "subject_id", "subgroup", "term_id")
    elif rule == "personal_data.unverified":
        parts = ("class_id", "term_id")
    else:
        raise ValueError(f"unknown rule {rule}")
    return (rule, school_id, *(part(name) for name in parts))


GROUND_TRUTH_FIELDS = [f.name for f in fields(PlantedFault)]


def write_ground_truth(faults: Iterable[PlantedFault], handle: IO[str]) -> int:
    writer = csv.DictWriter(handle, fieldnames=GROUND_TRUTH_FIELDS)
    writer.writeheader()
    written = 0
    for fault in faults:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(fault).items()})
        written += 1
    return written


def read_ground_truth(path: Path) -> list[PlantedFault]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [PlantedFault(**{k: (v or None) if k not in ("rule", "school_id", "date", "note")
                                else v for k, v in row.items()})  # type: ignore[arg-type]
                for row in csv.DictReader(handle)]
