"""Scheduled reports: the two-week check and the quarter's analyses, when due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.checker.domain.reports.school_book import SchoolBook

FILL_RATE_DAYS = 14  # clause 4.2: the journal is checked every two weeks


def due_reports(book: SchoolBook, final_mark_days: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, period, parameters) the school should have by ``book.today`` (pure).

    The two-week check covers fortnights counted from the first day of the
    school year; the latest one that has ended is due. A quarter's analyses
    (one per class) are due once its final marks' deadline has passed; only
    the latest such quarter. Earlier periods are not made retroactively.
    """
    quarters = sorted((t for t in book.terms if t.kind == "quarter"), key=lambda t: t.start)
    if not quarters:
        return []
    due: list[tuple[str, str, dict[str, Any]]] = []
    first, last = quarters[0].start, quarters[-1].end
    ended = min(book.today - timedelta(days=1), last)
    if ended >= first + timedelta(days=FILL_RATE_DAYS - 1):
        index = ((ended - first).days + 1) // FILL_RATE_DAYS - 1
        start = first + timedelta(days=FILL_RATE_DAYS * index)
        end = start + timedelta(days=FILL_RATE_DAYS - 1)
        due.append(("fill_rate", f"{start.isoformat()}/{end.isoformat()}",
                    {"date_from": start.isoformat(), "date_to": end.isoformat()}))
    closed = [t for t in quarters
              if t.end + timedelta(days=final_mark_days) < book.today]
    if closed:
        term = closed[-1]
        for class_id in sorted(book.homeroom):
            due.append(("quarter_analysis", f"{term.term_id}:{class_id}",
                        {"class_id": class_id, "term_id": term.term_id}))
    return due
