"""The rule catalog v1, a public contract: ids, clauses, severities, who must act,
the remark's Russian wording and the rules' parameters with their defaults.

The checker judges by it; the gateway lists it to administrators; printed
remarks sheets quote it. Ids never change (``../shared/spec/rules.md``). The
wording is what a deputy director pastes into a class journal's remarks sheet
(листок замечаний): Russian, one sentence, naming the entry concerned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    clause: str
    severity: str       # violation | warning
    responsible: str    # teacher | class_teacher | deputy
    text: str           # Russian remark; {date}, {lesson}, {student}, ... filled in


T, CT, D = "teacher", "class_teacher", "deputy"
V, W = "violation", "warning"
CATALOG: dict[str, Rule] = {rule.id: rule for rule in (
    Rule("lesson.topic.late", "3.5, 4.4", V, T,
         "Тема урока {date} не внесена в день проведения урока."),
    Rule("attendance.late", "3.5, 4.4", V, T,
         "Отсутствующие на уроке {date} не отмечены в день проведения урока."),
    Rule("homework.late", "3.6", V, T,
         "Домашнее задание к уроку {date} не внесено в день проведения урока."),
    Rule("substitution.unrecorded", "3.5", V, T,
         "Замена урока {date} не отражена в журнале при внесении записи."),
    Rule("mark.value.invalid", "4.4", V, T,
         "Текущая отметка «{value}» за {date} не соответствует пятибалльной системе."),
    Rule("mark.work_type.missing", "4.4", V, T,
         "У текущей отметки за {date} не указан вид работы."),
    Rule("mark.late", "3.8, 4.4", V, T,
         "Отметка за работу от {date} выставлена позже установленного срока."),
    Rule("mark.date.not_lesson", "4.4", V, T,
         "Отметка выставлена на дату {date}, когда урока по предмету не было."),
    Rule("marks.density.low", "4.4", W, T,
         "Низкая накопляемость отметок: в среднем меньше {minimum} отметок за урок "
         "за период с {date}."),
    Rule("mark.failing.no_followup", "4.4", V, T,
         "После неудовлетворительной отметки за {date} не выставлена следующая отметка "
         "в течение трёх учебных дней."),
    Rule("mark.failing.first_day_of_term", "4.4", V, T,
         "Неудовлетворительная отметка выставлена в первый учебный день четверти ({date})."),
    Rule("mark.failing.after_absence", "4.4", V, T,
         "Неудовлетворительная отметка за {date} выставлена на первом уроке после "
         "длительного отсутствия ученика."),
    Rule("topic.placeholder", "4.4", V, T,
         "Тема урока {date} записана знаками повтора вместо названия темы."),
    Rule("topic.double_lesson_duplicate", "4.4", V, T,
         "Тема второго урока {date} повторяет тему первого урока того же дня."),
    Rule("topic.abbreviation", "4.4", W, T,
         "В теме урока {date} использованы сокращения."),
    Rule("topic.language", "4.4", V, T,
         "Тема урока {date} записана не на языке обучения."),
    Rule("topic.assessment_unnamed", "4.4", V, T,
         "В теме урока {date} не указан вид проведённой работы."),
    Rule("subgroup.wrong_teacher", "4.4", V, T,
         "Урок подгруппы {date} записан не учителем этой подгруппы."),
    Rule("final_mark.late", "4.3, 4.4", V, T,
         "Итоговая отметка за период, закончившийся {date}, не выставлена в срок."),
    Rule("final_mark.insufficient_marks", "4.4", V, T,
         "Итоговая отметка за период, закончившийся {date}, выставлена при недостаточном "
         "количестве текущих отметок."),
    Rule("final_mark.inconsistent", "4.2, 4.3", W, D,
         "Итоговая отметка за период, закончившийся {date}, расходится со средним "
         "текущих отметок."),
    Rule("program.behind_plan", "4.2, 4.4", W, T,
         "Отставание от календарно-тематического плана на {date}: проведено {held} "
         "из {planned} уроков."),
    Rule("absence.reason_missing", "4.3", W, CT,
         "Не указана причина отсутствия ученика на уроке {date}."),
    Rule("personal_data.unverified", "4.3", V, CT,
         "Персональные данные класса не проверены после {period_ended} {date}."),
    Rule("homework.grade_not_allowed", "1.3", V, T,
         "Домашнее задание к уроку {date} задано в классе, где домашние задания не задаются."),
    Rule("homework.load.excessive", "1.3", V, D,
         "Общий объём домашних заданий класса за {date} ({minutes} мин) превышает норму "
         "для возраста обучающихся ({norm} мин)."),
    Rule("homework.not_ahead", "3.7", W, T,
         "Домашнее задание к уроку {date} размещено менее чем за {hours} ч до следующего "
         "урока: обучающиеся не могут заранее спланировать время."),
    Rule("journal.not_visited", "4.3", W, CT,
         "Электронный журнал не посещали ({who}) с {date}."),
)}


#: Each rule's short Russian title, for papers and exports (a deputy reads this, not the id).
RULE_TITLES: dict[str, str] = {
    "lesson.topic.late": "Тема урока внесена не в день урока",
    "attendance.late": "Отсутствующие отмечены не в день урока",
    "homework.late": "Домашнее задание внесено не в день урока",
    "substitution.unrecorded": "Замена урока не отражена",
    "mark.value.invalid": "Отметка вне пятибалльной системы",
    "mark.work_type.missing": "Не указан вид работы",
    "mark.late": "Отметка выставлена позже срока",
    "mark.date.not_lesson": "Отметка на дату без урока",
    "marks.density.low": "Низкая накопляемость отметок",
    "mark.failing.no_followup": "Нет отметки после неудовлетворительной",
    "mark.failing.first_day_of_term": "Неудовлетворительная отметка в первый день четверти",
    "mark.failing.after_absence": "Неудовлетворительная отметка после долгого отсутствия",
    "topic.placeholder": "Тема записана знаками повтора",
    "topic.double_lesson_duplicate": "Тема спаренного урока повторяется",
    "topic.abbreviation": "Сокращения в теме урока",
    "topic.language": "Тема не на языке обучения",
    "topic.assessment_unnamed": "В теме не указан вид работы",
    "subgroup.wrong_teacher": "Урок подгруппы записан другим учителем",
    "final_mark.late": "Итоговая отметка не выставлена в срок",
    "final_mark.insufficient_marks": "Итоговая отметка при недостатке текущих",
    "final_mark.inconsistent": "Итоговая отметка расходится со средним",
    "program.behind_plan": "Отставание от КТП",
    "absence.reason_missing": "Не указана причина отсутствия",
    "personal_data.unverified": "Персональные данные не проверены",
    "homework.grade_not_allowed": "Домашнее задание в классе, где его не задают",
    "homework.load.excessive": "Объём домашних заданий выше нормы",
    "homework.not_ahead": "Домашнее задание размещено поздно",
    "journal.not_visited": "Журнал не просматривается",
}


def rule_title(rule_id: str) -> str:
    """The rule's Russian title; an id the catalog does not know is shown as it is."""
    return RULE_TITLES.get(rule_id, rule_id)

#: Every numeric limit of the catalog is a per-school parameter; these are the defaults.
PARAMETER_DEFAULTS: dict[str, int] = {
    "written_mark_days": 7, "oral_mark_days": 0, "min_marks_per_lesson": 3,
    "density_window_days": 14, "failing_followup_school_days": 3,
    "long_absence_lessons": 3, "final_mark_days": 2, "min_marks_for_final": 3,
    "program_lag_lessons": 2, "absence_reason_days": 3, "personal_data_days": 7,
    "outage_grace_days": 3, "marked_from_grade": 2,
    # clause 1.3: homework by age (sanitary norms used in Kyrgyz and Russian schools)
    "homework_from_grade": 2, "homework_minutes_grades_2_3": 90,
    "homework_minutes_grades_4_5": 120, "homework_minutes_grades_6_8": 150,
    "homework_minutes_grades_9_11": 210,
    # clause 3.7: homework posted ahead of the next lesson's day
    "homework_notice_hours": 4,
    # clause 4.3: journal visits by students and parents (a rule only when switched on)
    "journal_visit_days": 14, "journal_visits_rule": 0,
}
#: Bounds of the numeric parameters that are not a count of days (0-365).
PARAMETER_BOUNDS: dict[str, tuple[int, int]] = {
    "homework_from_grade": (1, 12), "homework_minutes_grades_2_3": (0, 600),
    "homework_minutes_grades_4_5": (0, 600), "homework_minutes_grades_6_8": (0, 600),
    "homework_minutes_grades_9_11": (0, 600), "homework_notice_hours": (0, 168),
    "journal_visit_days": (1, 365), "journal_visits_rule": (0, 1),
}
#: Parameters that take one of a few words: (default, allowed values). Clause 4.3 asks
#: for personal data checked "по окончании каждой четверти" and "не реже одного раза в
#: полгода"; a school chooses which period it checks by.
CHOICE_DEFAULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "personal_data_period": ("quarter", ("quarter", "half_year")),
}
#: Parameters that are lists of subject ids (the catalog says language subjects are
#: exempt from ``topic.language`` "by configuration").
SUBJECT_LIST_DEFAULTS: dict[str, tuple[str, ...]] = {
    "language_subjects": ("english", "kyrgyz_lang", "german", "french"),
}
SUBJECT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_SUBJECTS = 100
RULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "mark.late": ("written_mark_days", "oral_mark_days"),
    "marks.density.low": ("min_marks_per_lesson", "density_window_days", "marked_from_grade"),
    "mark.failing.no_followup": ("failing_followup_school_days",),
    "mark.failing.after_absence": ("long_absence_lessons",),
    "final_mark.late": ("final_mark_days",),
    "final_mark.insufficient_marks": ("min_marks_for_final",),
    "program.behind_plan": ("program_lag_lessons",),
    "absence.reason_missing": ("absence_reason_days",),
    "personal_data.unverified": ("personal_data_days", "personal_data_period"),
    "topic.language": ("language_subjects",),
    "homework.grade_not_allowed": ("homework_from_grade",),
    "homework.load.excessive": ("homework_minutes_grades_2_3", "homework_minutes_grades_4_5",
                                "homework_minutes_grades_6_8", "homework_minutes_grades_9_11"),
    "homework.not_ahead": ("homework_notice_hours",),
    "journal.not_visited": ("journal_visit_days", "journal_visits_rule"),
}


def parameter_defaults() -> dict[str, int | str | list[str]]:
    """Every parameter's default, as the API shows it."""
    return {**PARAMETER_DEFAULTS,
            **{name: list(value) for name, value in SUBJECT_LIST_DEFAULTS.items()},
            **{name: default for name, (default, _) in CHOICE_DEFAULTS.items()}}


def parameter_errors(values: object) -> dict[str, list[str]]:
    """Field-by-field errors of a parameters change (``{}`` when it is valid)."""
    if not isinstance(values, dict) or not values:
        return {"parameters": ["must be a non-empty object of parameter values"]}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in SUBJECT_LIST_DEFAULTS:
            if not isinstance(value, list) or len(value) > MAX_SUBJECTS or not all(
                    isinstance(item, str) and SUBJECT_ID.match(item) for item in value):
                errors[name] = [f"must be a list of at most {MAX_SUBJECTS} subject ids"]
        elif name in CHOICE_DEFAULTS:
            allowed = CHOICE_DEFAULTS[name][1]
            if value not in allowed:
                errors[name] = [f"must be one of {', '.join(allowed)}"]
        elif name not in PARAMETER_DEFAULTS:
            errors[name] = ["no such parameter"]
        else:
            low, high = PARAMETER_BOUNDS.get(name, (0, 365))
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[name] = [f"must be a whole number from {low} to {high}"]
    return errors
