"""The school's fill rate per fortnight, from the checker's two-week reports (pure).

A fortnight's *fill rate* is the share of the entries its held lessons owed that were
made on time: a topic, the homework and the attendance per lesson (the ``fill_rate``
report's «Темы в срок», «Д/з в срок», «Посещаемость в срок», weighted by lessons held).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

FORTNIGHT_DAYS = 14
ENTRIES = ("topics_on_time", "homework_on_time", "attendance_on_time")


@dataclass(frozen=True)
class Fortnight:
    report_id: str
    date_from: date
    date_to: date
    lessons: int
    on_time: int  # entries made on time, of 3 per lesson

    @property
    def rate(self) -> float | None:
        return self.on_time / (len(ENTRIES) * self.lessons) if self.lessons else None


def fortnight_of(report_id: str, content: dict[str, Any]) -> Fortnight | None:
    """The figure of one whole-school ``fill_rate`` report, if it covers a fortnight."""
    parameters = content.get("parameters") or {}
    try:
        start = date.fromisoformat(str(parameters["date_from"]))
        end = date.fromisoformat(str(parameters["date_to"]))
    except (KeyError, ValueError):
        return None
    if (end - start).days + 1 != FORTNIGHT_DAYS:
        return None
    lessons = on_time = 0
    for table in content.get("tables") or []:
        if table.get("name") != "rows":
            continue
        for row in table.get("rows") or []:
            held = int(row.get("lessons_held") or 0)
            lessons += held
            # shares are kept to 4 decimals: back to whole entries
            on_time += sum(round(float(row.get(name) or 0) * held) for name in ENTRIES)
    return Fortnight(report_id, start, end, lessons, on_time)


def fortnight_series(figures: list[tuple[datetime | None, Fortnight]]) -> list[Fortnight]:
    """One figure per fortnight, oldest first, from (generated at, figure) of the reports;
    of two reports of one fortnight (a scheduled one made again, a deputy's request) the
    newest generated counts."""
    newest: dict[date, tuple[datetime | None, Fortnight]] = {}
    for generated_at, figure in figures:
        known = newest.get(figure.date_from)
        if known is None or (generated_at is not None and
                             (known[0] is None or generated_at > known[0])):
            newest[figure.date_from] = (generated_at, figure)
    return [newest[start][1] for start in sorted(newest)]


def percent_ru(share: float | None) -> str:
    """«91,4 %», as a Russian reader writes it; «—» when there is nothing to count."""
    return "—" if share is None else f"{share * 100:.1f} %".replace(".", ",")
