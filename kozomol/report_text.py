"""A report (report.ready data, docs/reports.md) as text tables for a terminal."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate


def report_as_text(report: dict[str, Any], *, max_rows: int = 200) -> str:
    lines = [report["title"], ""]
    lines += [f"  {label}: {value}" for label, value in report.get("summary", [])]
    for table in report["tables"]:
        columns = table["columns"]
        rows = [[_cell(row.get(c["key"])) for c in columns] for row in table["rows"][:max_rows]]
        lines += ["", table["title"], tabulate(rows, headers=[c["title"] for c in columns],
                                                tablefmt="simple", disable_numparse=True)]
        if len(table["rows"]) > max_rows:
            lines.append(f"… и ещё {len(table['rows']) - max_rows} строк (--json: все)")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value * 100:.1f} %" if 0 <= value <= 1 else f"{value:.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return f"{len(value)} шт."
    return str(value)
