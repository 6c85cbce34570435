"""When a school's judgement can next change with no new event (pure).

``evaluate(facts, now)`` depends on ``now`` only through a few comparisons:
a deadline passed (``now > deadline``: lesson entries, attendance, absence
reasons, term marks, personal data, a failing mark's follow-up window, a
density window) or the school's local date (term marks become expected on
the term's last day; the program is compared with the plan up to yesterday).
:func:`next_change` returns the earliest moment after ``now`` at which one of
those comparisons flips, so between two sweeps of an unchanged school nothing
needs judging before that moment. It mirrors rules.py comparison by
comparison; tests compare it with ``evaluate`` at many moments (a moment it
misses would show as findings that appear later than a full sweep's).

A moment returned is the first instant at which the findings may differ:
for ``now > deadline`` that is just after the deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from services.checker.domain.facts import SchoolFacts
from services.checker.domain.rules import Calendar, Parameters

DEFAULTS = Parameters()
#: ``now > deadline`` first holds this long after the deadline.
AFTER = timedelta(microseconds=1)


def next_change(facts: SchoolFacts, now: datetime,
                params: Parameters = DEFAULTS) -> datetime | None:
    """The first moment after ``now`` at which the school's findings may change by time
    alone; None when no such moment remains (or nothing can be judged)."""
    if facts.calendar.data is None:
        return None  # nothing is judged until the calendar comes, which is an event
    calendar = Calendar(facts, params)
    return min((moment for moment in _moments(facts, calendar, now, params) if moment > now),
               default=None)


def _moments(facts: SchoolFacts, calendar: Calendar, now: datetime,
             params: Parameters) -> Iterator[datetime]:
    yield from _lesson_moments(facts, calendar, params)
    yield from _mark_moments(facts, calendar, params)
    yield from _term_moments(facts, calendar, now, params)
    yield from _absence_moments(facts, calendar, params)


def _lesson_moments(facts: SchoolFacts, calendar: Calendar,
                    params: Parameters) -> Iterator[datetime]:
    """Topic, homework and attendance are due at the end of the lesson's day (outages
    moving it); a density window is judged once its last day is over."""
    window = params.density_window_days
    for lesson in facts.lessons.values():
        if not lesson.live or lesson.data is None:
            continue
        day = date.fromisoformat(lesson.data["date"])
        yield calendar.deadline(day, day) + AFTER
        term = calendar.term_of(day)
        if term is not None:
            start = term.start + timedelta(days=(day - term.start).days // window * window)
            yield calendar.end_of(min(term.end, start + timedelta(days=window - 1))) + AFTER


def _mark_moments(facts: SchoolFacts, calendar: Calendar,
                  params: Parameters) -> Iterator[datetime]:
    """A failing mark's follow-up window closes (mark.failing.no_followup)."""
    for mark in facts.marks.values():
        data = mark.data
        if not mark.live or data is None or data.get("kind") != "current" \
                or data.get("value") != "2":
            continue
        window_end = calendar.school_days_after(date.fromisoformat(data["date"]),
                                                params.failing_followup_school_days)
        yield calendar.end_of(window_end) + AFTER


def _term_moments(facts: SchoolFacts, calendar: Calendar, now: datetime,
                  params: Parameters) -> Iterator[datetime]:
    today = calendar.local_date(now)
    planned_terms = {term_id for (_, _, _, term_id), plan in facts.plans.items() if plan.data}
    for term in calendar.terms:
        # Term marks are expected from the term's last day, and due after its deadline.
        yield _midnight(calendar, term.end)
        yield calendar.deadline(term.end, term.end + timedelta(
            days=params.final_mark_days)) + AFTER
        if term.kind == "quarter":
            yield calendar.deadline(term.end, term.end + timedelta(
                days=params.personal_data_days)) + AFTER
        # The program is compared with the plan up to yesterday: it changes at every
        # local midnight from the term's second day to the day after it ends.
        if term.term_id in planned_terms:
            tomorrow = today + timedelta(days=1)
            if term.start + timedelta(days=1) <= tomorrow <= term.end + timedelta(days=1):
                yield _midnight(calendar, tomorrow)
            elif tomorrow < term.start + timedelta(days=1):
                yield _midnight(calendar, term.start + timedelta(days=1))


def _absence_moments(facts: SchoolFacts, calendar: Calendar,
                     params: Parameters) -> Iterator[datetime]:
    """An absence's reason is due a few school days after the lesson."""
    for lesson_id, sheet in facts.attendance.items():
        lesson = facts.lessons.get(lesson_id)
        if sheet.data is None or not sheet.data.get("absent") or lesson is None \
                or lesson.data is None:
            continue
        day = date.fromisoformat(lesson.data["date"])
        due = calendar.school_days_after(day, params.absence_reason_days)
        yield calendar.deadline(day, due) + AFTER


def _midnight(calendar: Calendar, day: date) -> datetime:
    """The start of ``day`` in the school's time zone: when it becomes "today"."""
    return datetime.combine(day, time(0, 0), tzinfo=calendar.zone)
