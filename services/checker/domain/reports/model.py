"""What a report is: plain data the API, downloads and the printer render, and the
words and numbers it is written in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

KINDS = ("fill_rate", "quarter_analysis", "program_completion", "teacher_summary",
         "academic_results", "marks_objectivity", "journal_visits")


class ReportError(ValueError):
    """The request cannot be answered (the message is for the user, in Russian)."""


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    definition: str | None = None
    #: how papers and workbooks show the values: "percent" (a share 0…1), "decimal",
    #: "integer", "date", "rule_counts" ({rule id: count}); None: as they are
    format: str | None = None


@dataclass
class Table:
    name: str
    title: str
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    #: How the printer may draw the table (docs/reports.md, "chart"): optional.
    chart: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        made: dict[str, Any] = {"name": self.name, "title": self.title,
                "columns": [{"key": c.key, "title": c.title, "definition": c.definition,
                             **({"format": c.format} if c.format else {})}
                            for c in self.columns],
                "rows": self.rows}
        if self.chart is not None:
            made["chart"] = self.chart
        return made


@dataclass
class Report:
    kind: str
    title: str
    parameters: dict[str, Any]
    summary: list[tuple[str, str]]
    tables: list[Table]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "parameters": self.parameters,
                "summary": [list(pair) for pair in self.summary],
                "tables": [table.as_dict() for table in self.tables]}


def ru_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def percent(share: float | None) -> str:
    """A share as a Russian reader writes it: «99,2 %» (decimal comma)."""
    return "—" if share is None else f"{share * 100:.1f} %".replace(".", ",")
