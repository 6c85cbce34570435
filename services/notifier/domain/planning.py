"""Which messages are due, and what they say (pure).

- ``reminders``: before the day's deadline, one message per teacher listing
  today's lessons still without topic, homework or attendance, the written
  work whose marks are due tomorrow and the term marks due in two days;
- ``digests``: each person responsible for findings gets their new and
  still-open ones once a day, with the day of the next check;
- ``parent_notices``: a parent who opted in hears about their own child only:
  absences without a reason, a "2", term marks as they are set;
- ``report_summaries``: the deputy director hears when the scheduled
  two-week check or a quarter's analyses are ready.

Each message carries an idempotency key naming what it is about and the day,
so planning the same day again (a restart, a second notifier) queues nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.notifier.domain.model import (
    FINAL_KINDS,
    WRITTEN_KINDS,
    Finding,
    Lesson,
    Recipient,
    Report,
    SchoolFacts,
    Term,
)
from services.notifier.domain.texts import action, day, phrase, short_name, term_name

PARAMETER_DEFAULTS = {"written_mark_days": 7, "final_mark_days": 2, "marked_from_grade": 2}
TERM_REMINDER_DAYS = 2      # term marks: remind two days before their deadline
DIGEST_LINES = 10           # findings listed per section; the rest are counted
NAMES_LISTED = 5            # students named per written-work line


@dataclass(frozen=True)
class Draft:
    """A message to one person, before it is given channels and queued."""

    key: str
    kind: str            # reminder | digest | parent_notice | report_summary
    school_id: str
    recipient: Recipient
    subject: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)


def _parameter(facts: SchoolFacts, name: str) -> int:
    return int(facts.parameters.get(name, PARAMETER_DEFAULTS[name]))


def _body(language: str, lines: list[str]) -> str:
    return "\n".join([*lines, "", phrase(language, "footer")])


# Before the deadline ----------------------------------------------------------------------
def reminders(facts: SchoolFacts, today: date) -> list[Draft]:
    lessons_due = _lessons_missing(facts, today)
    written_date = today + timedelta(days=1) - timedelta(
        days=_parameter(facts, "written_mark_days"))
    written_due = _written_missing(facts, written_date)
    finals_due, final_terms = _finals_missing(facts, today)
    drafts = []
    for teacher_id in sorted(set(lessons_due) | set(written_due) | set(finals_due)):
        teacher = facts.teachers.get(teacher_id)
        if teacher is None or not teacher.consent:
            continue
        lang = teacher.language
        lines = [phrase(lang, "reminder.greeting", name=short_name(teacher.full_name))]
        payload: dict[str, Any] = {"date": today.isoformat()}
        if teacher_id in lessons_due:
            items = lessons_due[teacher_id]
            lines += ["", phrase(lang, "reminder.today")]
            lines += [phrase(lang, "reminder.lesson", class_name=facts.class_name(lesson.class_id),
                             subject=facts.subject_name(lesson.subject_id), period=lesson.period,
                             missing=", ".join(phrase(lang, f"missing.{m}") for m in missing))
                      for lesson, missing in items]
            payload["lessons"] = [{"lesson_id": lesson.lesson_id, "class_id": lesson.class_id,
                                   "subject_id": lesson.subject_id, "period": lesson.period,
                                   "missing": missing} for lesson, missing in items]
        if teacher_id in written_due:
            items_w = written_due[teacher_id]
            lines += ["", phrase(lang, "reminder.written", date=day(written_date),
                                 deadline=day(today + timedelta(days=1)))]
            lines += [phrase(lang, "reminder.written_line",
                             class_name=facts.class_name(lesson.class_id),
                             subject=facts.subject_name(lesson.subject_id), count=len(missing),
                             names=_names(facts, missing))
                      for lesson, missing in items_w]
            payload["written_work"] = [{"lesson_id": lesson.lesson_id,
                                        "date": lesson.date.isoformat(),
                                        "students_without_mark": len(missing)}
                                       for lesson, missing in items_w]
        if teacher_id in finals_due:
            for term in final_terms:
                rows = [row for row in finals_due[teacher_id] if row[0] == term.term_id]
                if not rows:
                    continue
                deadline = term.end + timedelta(days=_parameter(facts, "final_mark_days"))
                lines += ["", phrase(lang, "reminder.final",
                                     term=term_name(lang, term.kind, term.number),
                                     deadline=day(deadline))]
                lines += [phrase(lang, "reminder.final_line", class_name=facts.class_name(class_id),
                                 subject=facts.subject_name(subject_id), count=count, total=total)
                          for _, class_id, subject_id, count, total in rows]
                payload.setdefault("final_marks", []).extend(
                    {"term_id": term.term_id, "class_id": class_id, "subject_id": subject_id,
                     "missing": count, "students": total}
                    for _, class_id, subject_id, count, total in rows)
        drafts.append(Draft(
            key=f"reminder:{facts.school_id}:{teacher_id}:{today.isoformat()}",
            kind="reminder", school_id=facts.school_id, recipient=teacher,
            subject=phrase(lang, "reminder.subject", date=day(today)),
            body=_body(lang, lines), payload=payload))
    return drafts


def _lessons_missing(facts: SchoolFacts, today: date) -> dict[str, list[tuple[Lesson, list[str]]]]:
    due: dict[str, list[tuple[Lesson, list[str]]]] = defaultdict(list)
    for lesson in sorted(facts.lessons, key=lambda x: (x.period, x.class_id, x.lesson_id)):
        if lesson.date != today:
            continue
        missing = [name for name, absent in (("topic", not lesson.topic.strip()),
                                             ("homework", not lesson.homework.strip()),
                                             ("attendance", not lesson.has_attendance))
                   if absent]
        if missing:
            due[lesson.teacher_id].append((lesson, missing))
    return due


def _marked(facts: SchoolFacts, class_id: str) -> bool:
    school_class = facts.classes.get(class_id)
    return school_class is None or school_class.grade >= _parameter(facts, "marked_from_grade")


def _written_missing(facts: SchoolFacts, work_date: date
                     ) -> dict[str, list[tuple[Lesson, list[str]]]]:
    """Written work of ``work_date`` with present students still without its mark."""
    written_marks: dict[str, set[str]] = defaultdict(set)
    for mark in facts.marks:
        if mark.kind == "current" and mark.lesson_id and mark.work_type in WRITTEN_KINDS:
            written_marks[mark.lesson_id].add(mark.student_id)
    due: dict[str, list[tuple[Lesson, list[str]]]] = defaultdict(list)
    for lesson in sorted(facts.lessons, key=lambda x: (x.class_id, x.period, x.lesson_id)):
        if lesson.date != work_date or not _marked(facts, lesson.class_id):
            continue
        if not (lesson.names_written_work or written_marks.get(lesson.lesson_id)):
            continue
        school_class = facts.classes.get(lesson.class_id)
        if school_class is None:
            continue
        absent = {student for student, _ in lesson.absent}
        missing = [s for s in school_class.students_of(lesson.subject_id, lesson.subgroup)
                   if s not in absent and s not in written_marks.get(lesson.lesson_id, set())]
        if missing:
            due[lesson.teacher_id].append((lesson, missing))
    return due


def final_terms_due(facts: SchoolFacts, today: date) -> list[Term]:
    """Terms whose final marks are due in exactly two days."""
    days = _parameter(facts, "final_mark_days")
    return [t for t in facts.calendar.terms
            if t.end + timedelta(days=days) - timedelta(days=TERM_REMINDER_DAYS) == today]


def _finals_missing(facts: SchoolFacts, today: date
                    ) -> tuple[dict[str, list[tuple[str, str, str, int, int]]], list[Term]]:
    terms = final_terms_due(facts, today)
    if not terms:
        return {}, []
    quarters = {t.term_id: t for t in facts.calendar.terms if t.kind == "quarter"}
    set_marks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for mark in facts.marks:
        if mark.kind in FINAL_KINDS and mark.term_id:
            set_marks[(mark.term_id, mark.subject_id)].add(mark.student_id)
    due: dict[str, list[tuple[str, str, str, int, int]]] = defaultdict(list)
    for term in terms:
        # who teaches each class-subject-subgroup: the plan of the term's last quarter
        teaching: dict[tuple[str, str, str | None], tuple[date, str]] = {}
        for plan in facts.plans:
            quarter = quarters.get(plan.term_id)
            if quarter is None or not term.start <= quarter.start <= term.end:
                continue
            key = (plan.class_id, plan.subject_id, plan.subgroup)
            if key not in teaching or teaching[key][0] < quarter.start:
                teaching[key] = (quarter.start, plan.teacher_id)
        for (class_id, subject_id, subgroup), (_, teacher_id) in sorted(teaching.items(),
                                                                         key=_plan_order):
            school_class = facts.classes.get(class_id)
            if school_class is None or not _marked(facts, class_id):
                continue
            students = school_class.students_of(subject_id, subgroup)
            missing = [s for s in students if s not in set_marks[(term.term_id, subject_id)]]
            if missing:
                due[teacher_id].append((term.term_id, class_id, subject_id, len(missing),
                                        len(students)))
    return due, terms


def _plan_order(item: tuple[tuple[str, str, str | None], tuple[date, str]]) -> tuple[str, ...]:
    (class_id, subject_id, subgroup), _ = item
    return class_id, subject_id, subgroup or ""


def _names(facts: SchoolFacts, student_ids: list[str]) -> str:
    names = sorted(_short_student(facts.students.get(s, s)) for s in student_ids)
    listed = ", ".join(names[:NAMES_LISTED])
    return listed + (" …" if len(names) > NAMES_LISTED else "")


def _short_student(full_name: str) -> str:
    """ "Абдраимова Айпери Үмөтовна" → "Абдраимова Айпери"."""
    return " ".join(full_name.split()[:2])


# After the fact: findings -----------------------------------------------------------------
def digests(facts: SchoolFacts, today: date, now: datetime, *, since: datetime,
            settling: timedelta) -> list[Draft]:
    """Each responsible person's new (opened after ``since``) and still-open findings.

    A finding younger than the settling window waits for the next digest: one
    opened and withdrawn within the window is never mentioned.
    """
    by_person: dict[str, list[Finding]] = defaultdict(list)
    for finding in facts.findings:
        if finding.opened_at > now - settling:
            continue
        for recipient in _responsible(facts, finding):
            by_person[recipient.person_id].append(finding)
    deadline = facts.calendar.next_check(today)
    drafts = []
    for person_id in sorted(by_person):
        person = facts.teachers[person_id]
        if not person.consent:
            continue
        lang = person.language
        items = sorted(by_person[person_id], key=lambda f: (f.date, f.rule, f.finding_id))
        new = [f for f in items if f.opened_at > since]
        still = [f for f in items if f.opened_at <= since]
        lines = [phrase(lang, "digest.greeting", name=short_name(person.full_name))]
        for title, group in (("digest.new", new), ("digest.open", still)):
            if group:
                lines += ["", phrase(lang, title)]
                lines += [phrase(lang, "digest.line", where=_where(facts, f), message=f.message,
                                 action=action(lang, f.rule))
                          for f in group[:DIGEST_LINES]]
                if len(group) > DIGEST_LINES:
                    lines.append(phrase(lang, "digest.more", count=len(group) - DIGEST_LINES))
        if deadline is not None:
            lines += ["", phrase(lang, "digest.deadline", deadline=day(deadline))]
        drafts.append(Draft(
            key=f"digest:{facts.school_id}:{person_id}:{today.isoformat()}",
            kind="digest", school_id=facts.school_id, recipient=person,
            subject=phrase(lang, "digest.subject", date=day(today)), body=_body(lang, lines),
            payload={"date": today.isoformat(), "new": [f.finding_id for f in new],
                     "open": [f.finding_id for f in still],
                     "fix_by": deadline.isoformat() if deadline else None}))
    return drafts


def _where(facts: SchoolFacts, finding: Finding) -> str:
    """ "5 «А», Математика: " — which class journal the remark is about."""
    parts = [p for p in (finding.class_id and facts.class_name(finding.class_id),
                         finding.subject_id and facts.subject_name(
        finding.subject_id)) if p]
    return ", ".join(parts) + ": " if parts else ""


def _responsible(facts: SchoolFacts, finding: Finding) -> list[Recipient]:
    if finding.responsible == "teacher" and finding.teacher_id in facts.teachers:
        return [facts.teachers[finding.teacher_id]]
    if finding.responsible == "class_teacher" and finding.class_id in facts.classes:
        homeroom = facts.classes[finding.class_id].homeroom_teacher_id
        return [facts.teachers[homeroom]] if homeroom in facts.teachers else []
    if finding.responsible == "deputy":
        return facts.deputies()
    return []


# Parents (clause 4.3) ---------------------------------------------------------------------
def parent_notices(facts: SchoolFacts, today: date, *, since: datetime,
                   now: datetime) -> list[Draft]:
    """Per opted-in parent and child: that child's unexplained absences of today, "2"s and
    term marks entered since the last notice. Nothing about any other child."""
    events: dict[str, list[tuple[tuple[Any, ...], str, dict[str, Any]]]] = defaultdict(list)
    for lesson in facts.lessons:
        if lesson.date != today:
            continue
        for student_id, reason in lesson.absent:
            if reason in (None, "unexcused"):
                key = "parent.absence" if reason is None else "parent.unexcused"
                events[student_id].append(((0, lesson.date, lesson.period), key, {
                    "date": lesson.date, "subject": lesson.subject_id, "period": lesson.period}))
    for mark in facts.marks:
        if not since < mark.entered_at <= now:
            continue
        if mark.kind == "current" and mark.value.strip() == "2":
            events[mark.student_id].append(((1, mark.date, mark.mark_id), "parent.failing", {
                "date": mark.date, "subject": mark.subject_id}))
        elif mark.kind in FINAL_KINDS and mark.term_id:
            events[mark.student_id].append(((2, mark.date, mark.mark_id), "parent.final", {
                "term_id": mark.term_id, "subject": mark.subject_id, "value": mark.value}))
    terms = {t.term_id: t for t in facts.calendar.terms}
    drafts = []
    for student_id in sorted(events):
        child = _short_student(facts.students.get(student_id, student_id))
        items = sorted(events[student_id], key=lambda e: tuple(str(x) for x in e[0]))
        for parent in facts.parents.get(student_id, []):
            if not parent.consent or parent.student_id != student_id:
                continue
            lang = parent.language
            lines = [phrase(lang, "parent.greeting", name=short_name(parent.full_name),
                            child=child)]
            for _, key, values in items:
                lines.append(phrase(lang, key, **_parent_values(facts, terms, lang, values)))
            homeroom = _homeroom_of(facts, student_id)
            if homeroom is not None:
                lines += ["", phrase(lang, "parent.homeroom", name=homeroom.full_name)]
            drafts.append(Draft(
                key=f"parent:{facts.school_id}:{parent.person_id}:{student_id}:"
                    f"{today.isoformat()}",
                kind="parent_notice", school_id=facts.school_id, recipient=parent,
                subject=phrase(lang, "parent.subject", child=child, date=day(today)),
                body=_body(lang, lines),
                payload={"date": today.isoformat(), "student_id": student_id,
                         "items": [{"what": key.removeprefix("parent."),
                                    **{k: str(v) for k, v in values.items()}}
                                   for _, key, values in items]}))
    return drafts


def _homeroom_of(facts: SchoolFacts, student_id: str) -> Recipient | None:
    """The child's class teacher, who answers the parents (clause 4.3)."""
    for school_class in facts.classes.values():
        if student_id in school_class.students and school_class.homeroom_teacher_id:
            return facts.teachers.get(school_class.homeroom_teacher_id)
    return None


def _parent_values(facts: SchoolFacts, terms: dict[str, Term], lang: str,
                   values: dict[str, Any]) -> dict[str, Any]:
    shown = dict(values)
    shown["subject"] = facts.subject_name(values["subject"])
    if "date" in values:
        shown["date"] = day(values["date"])
    if "term_id" in values:
        term = terms.get(values["term_id"])
        shown["term"] = (term_name(lang, term.kind, term.number) if term
                         else values["term_id"])
    return shown


# The deputy director's summaries ----------------------------------------------------------
def report_summaries(facts: SchoolFacts, reports: list[Report], console_url: str
                     ) -> list[Draft]:
    """One message per scheduled two-week check, one per quarter's set of class analyses."""
    groups: dict[tuple[str, str], list[Report]] = defaultdict(list)
    for report in reports:
        if report.kind == "fill_rate":
            period = f"{report.parameters.get('date_from')}/{report.parameters.get('date_to')}"
            groups[("fill_rate", period)].append(report)
        elif report.kind == "quarter_analysis":
            groups[("quarter_analysis", str(report.parameters.get("term_id")))].append(report)
    terms = {t.term_id: t for t in facts.calendar.terms}
    drafts = []
    for (kind, period), group in sorted(groups.items()):
        group.sort(key=lambda r: (str(r.parameters.get("class_id", "")), r.report_id))
        for deputy in facts.deputies():
            if not deputy.consent:
                continue
            lang = deputy.language
            first = group[0]
            if kind == "fill_rate":
                subject = phrase(lang, "summary.subject.fill_rate", period=_period(period))
                lines = [phrase(lang, "summary.greeting", name=short_name(deputy.full_name),
                                title=first.title)]
                lines += [f"• {name}: {value}" for name, value in first.summary]
                link = f"{console_url}/reports/{first.report_id}"
            else:
                term = terms.get(period)
                shown = term_name(lang, term.kind, term.number) if term else period
                subject = phrase(lang, "summary.subject.quarter_analysis", term=shown)
                classes = [facts.class_name(str(r.parameters.get("class_id"))) for r in group]
                lines = [phrase(lang, "summary.greeting", name=short_name(deputy.full_name),
                                title=first.title),
                         phrase(lang, "summary.classes", count=len(classes),
                                classes=", ".join(classes))]
                link = f"{console_url}/reports?kind=quarter_analysis&term_id={period}"
            lines += ["", phrase(lang, "summary.link", url=link)]
            drafts.append(Draft(
                key=f"summary:{facts.school_id}:{deputy.person_id}:{kind}:{period}",
                kind="report_summary", school_id=facts.school_id, recipient=deputy,
                subject=subject, body=_body(lang, lines),
                payload={"report_kind": kind, "period": period,
                         "report_ids": [r.report_id for r in group], "url": link}))
    return drafts


def _period(period: str) -> str:
    start, _, end = period.partition("/")
    try:
        return f"{day(date.fromisoformat(start))} – {day(date.fromisoformat(end))}"
    except ValueError:
        return period


