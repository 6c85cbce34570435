"""The wording of every message, in Russian and Kyrgyz (short, with names and dates).

Staff-facing text is Russian by default; a person who prefers Kyrgyz
(``preferred_language: "ky"``) gets the Kyrgyz wording. The remark of a
finding is quoted as the checker wrote it (the rule catalog's Russian text).
"""

from __future__ import annotations

from datetime import date

LANGUAGES = ("ru", "ky")

PHRASES: dict[str, dict[str, str]] = {
    "ru": {
        "reminder.subject": "Напоминание: электронный журнал, {date}",
        "reminder.greeting": "{name}, напоминание о сроках в электронном журнале.",
        "reminder.today": "До конца дня внесите:",
        "reminder.lesson": "• {class_name}, {subject}, {period}-й урок: {missing}",
        "missing.topic": "тему урока",
        "missing.homework": "домашнее задание",
        "missing.attendance": "отметку отсутствующих",
        "reminder.written": "Завтра, {deadline}, последний день для отметок за письменные "
                            "работы от {date}:",
        "reminder.written_line": "• {class_name}, {subject}: нет отметок у {count} уч. ({names})",
        "reminder.final": "Итоговые отметки за {term} нужно выставить до {deadline}:",
        "reminder.final_line": "• {class_name}, {subject}: не выставлено {count} из {total}",
        "term.quarter": "{number}-ю четверть",
        "term.half_year": "{number}-е полугодие",
        "term.year": "учебный год",
        "digest.subject": "Замечания по электронному журналу на {date}",
        "digest.greeting": "{name}, замечания по ведению электронного журнала:",
        "digest.new": "Новые:",
        "digest.open": "Ещё не устранены:",
        "digest.line": "• {where}{message} Что сделать: {action}.",
        "digest.more": "• и ещё {count}",
        "digest.deadline": "Устраните их до {deadline} — дня очередной проверки журнала.",
        "parent.subject": "{child}: электронный журнал, {date}",
        "parent.greeting": "{name}, из электронного журнала о ребёнке: {child}.",
        "parent.absence": "• {date}: отсутствие на уроке «{subject}» ({period}-й урок), "
                          "причина не указана.",
        "parent.unexcused": "• {date}: отсутствие на уроке «{subject}» ({period}-й урок) "
                            "без уважительной причины.",
        "parent.failing": "• {date}: отметка «2» по предмету «{subject}».",
        "parent.final": "• Итоговая отметка за {term} по предмету «{subject}»: {value}.",
        "parent.homeroom": "Классный руководитель: {name}.",
        "summary.subject.fill_rate": "Проверка заполнения журнала за {period}",
        "summary.subject.quarter_analysis": "Анализ классных журналов за {term}",
        "summary.greeting": "{name}, готов отчёт «{title}».",
        "summary.classes": "Классов: {count} ({classes}).",
        "summary.link": "Подробно: {url}",
        "footer": "Kozomol — контроль ведения электронного журнала.",
    },
    "ky": {
        "reminder.subject": "Эскертме: электрондук журнал, {date}",
        "reminder.greeting": "{name}, электрондук журналдагы мөөнөттөр тууралуу эскертме.",
        "reminder.today": "Күндүн аягына чейин киргизиңиз:",
        "reminder.lesson": "• {class_name}, {subject}, {period}-сабак: {missing}",
        "missing.topic": "сабактын темасын",
        "missing.homework": "үй тапшырмасын",
        "missing.attendance": "келбегендерди",
        "reminder.written": "Эртең, {deadline}, {date} күнкү жазуу иштеринин бааларын "
                            "коюунун акыркы күнү:",
        "reminder.written_line": "• {class_name}, {subject}: {count} окуучунун баасы жок ({names})",
        "reminder.final": "{term} боюнча жыйынтык бааларды {deadline} чейин коюңуз:",
        "reminder.final_line": "• {class_name}, {subject}: {total} окуучунун {count} баасы "
                               "коюла элек",
        "term.quarter": "{number}-чейрек",
        "term.half_year": "{number}-жарым жылдык",
        "term.year": "окуу жылы",
        "digest.subject": "{date} карата электрондук журнал боюнча эскертүүлөр",
        "digest.greeting": "{name}, электрондук журналды жүргүзүү боюнча эскертүүлөр:",
        "digest.new": "Жаңы:",
        "digest.open": "Азырынча оңдоло элек:",
        "digest.line": "• {where}{message} Эмне кылуу керек: {action}.",
        "digest.more": "• дагы {count}",
        "digest.deadline": "Аларды {deadline} чейин оңдоңуз — журналдын кезектеги "
                           "текшерүү күнү.",
        "parent.subject": "{child}: электрондук журнал, {date}",
        "parent.greeting": "{name}, электрондук журналдан балаңыз тууралуу: {child}.",
        "parent.absence": "• {date}: «{subject}» сабагына ({period}-сабак) келген жок, "
                          "себеби көрсөтүлгөн эмес.",
        "parent.unexcused": "• {date}: «{subject}» сабагына ({period}-сабак) жүйөсүз "
                            "себеп менен келген жок.",
        "parent.failing": "• {date}: «{subject}» сабагынан «2» баа алды.",
        "parent.final": "• {term} боюнча «{subject}» сабагынан жыйынтык баа: {value}.",
        "parent.homeroom": "Класс жетекчи: {name}.",
        "summary.subject.fill_rate": "{period} аралыгында журналдын толтурулушун текшерүү",
        "summary.subject.quarter_analysis": "{term} боюнча класстык журналдардын талдоосу",
        "summary.greeting": "{name}, «{title}» отчёту даяр.",
        "summary.classes": "Класстар: {count} ({classes}).",
        "summary.link": "Толугураак: {url}",
        "footer": "Kozomol — электрондук журналдын жүргүзүлүшүн көзөмөлдөө.",
    },
}


#: What to do about a finding, by rule (the remark says what is wrong; this says what to do).
ACTIONS: dict[str, dict[str, str]] = {
    "ru": {
        "enter": "внесите недостающую запись",
        "topic": "исправьте тему урока",
        "mark": "исправьте отметку",
        "on_time": "выставляйте отметки в срок",
        "followup": "опросите ученика повторно",
        "substitution": "исправьте запись о замене",
        "final": "проверьте итоговую отметку",
        "density": "выставляйте больше отметок на уроках",
        "program": "нагоните программу по КТП",
        "reason": "укажите причину отсутствия",
        "personal": "проверьте персональные данные класса",
        "homework": "пересмотрите объём домашнего задания",
        "ahead": "размещайте домашнее задание заранее",
        "visits": "напомните ученикам и родителям заходить в журнал",
    },
    "ky": {
        "enter": "жетишпеген жазууну киргизиңиз",
        "topic": "сабактын темасын оңдоңуз",
        "mark": "бааны оңдоңуз",
        "on_time": "бааларды өз убагында коюңуз",
        "followup": "окуучудан кайра сураңыз",
        "substitution": "алмаштыруу жазуусун оңдоңуз",
        "final": "жыйынтык бааны текшериңиз",
        "density": "сабактарда көбүрөөк баа коюңуз",
        "program": "КТП боюнча программаны жеткириңиз",
        "reason": "келбөөнүн себебин көрсөтүңүз",
        "personal": "класстын жеке маалыматтарын текшериңиз",
        "homework": "үй тапшырманын көлөмүн кайра карап чыгыңыз",
        "ahead": "үй тапшырманы алдын ала жайгаштырыңыз",
        "visits": "окуучуларга жана ата-энелерге журналга кирүүнү эскертиңиз",
    },
}
RULE_ACTIONS = {
    "lesson.topic.late": "enter", "attendance.late": "enter", "homework.late": "enter",
    "substitution.unrecorded": "substitution", "subgroup.wrong_teacher": "substitution",
    "mark.value.invalid": "mark", "mark.work_type.missing": "mark",
    "mark.date.not_lesson": "mark", "mark.late": "on_time", "marks.density.low": "density",
    "mark.failing.no_followup": "followup", "mark.failing.first_day_of_term": "mark",
    "mark.failing.after_absence": "mark", "final_mark.late": "final",
    "final_mark.insufficient_marks": "final", "final_mark.inconsistent": "final",
    "program.behind_plan": "program", "absence.reason_missing": "reason",
    "personal_data.unverified": "personal",
    "homework.grade_not_allowed": "homework", "homework.load.excessive": "homework",
    "homework.not_ahead": "ahead", "journal.not_visited": "visits",
}


def action(language: str, rule: str) -> str:
    """What to do about a finding of ``rule``; topic.* rules: correct the topic."""
    key = RULE_ACTIONS.get(rule, "topic" if rule.startswith("topic.") else "enter")
    return ACTIONS.get(language, ACTIONS["ru"])[key]


def phrase(language: str, key: str, **values: object) -> str:
    table = PHRASES.get(language, PHRASES["ru"])
    return table[key].format(**values)


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def term_name(language: str, kind: str, number: int) -> str:
    return phrase(language, f"term.{kind}", number=number)


def short_name(full_name: str) -> str:
    """ "Захарова Наталья Алексеевна" → "Наталья Алексеевна" (how a school addresses staff)."""
    parts = full_name.split()
    return " ".join(parts[1:]) if len(parts) >= 3 else full_name
