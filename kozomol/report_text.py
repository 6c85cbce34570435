"""A report (report.ready data, docs/reports.md) as text tables for a terminal."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from shared.events.rules import rule_title


def report_as_text(report: dict[str, Any], *, max_rows: int = 200) -> str:
    lines = [report["title"], ""]
    lines += [f"  {label}: {value}" for label, value in report.get("summary", [])]
    for table in report["tables"]:
        columns = table["columns"]
        rows = [[_cell(row.get(c["key"]), c) for c in columns]
                for row in table["rows"][:max_rows]]
        lines += ["", table["title"], tabulate(rows, headers=[c["title"] for c in columns],
                                                tablefmt="simple", disable_numparse=True)]
        if len(table["rows"]) > max_rows:
            lines.append(f"… и ещё {len(table['rows']) - max_rows} строк (--json: все)")
    return "\n".join(lines)


def _cell(value: Any, column: dict[str, Any]) -> str:
    """As the printed report shows it: shares (the column's ``format``) as percentages,
    decimal commas, counts per rule by the rule's title."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if column.get("format") == "percent" and isinstance(value, int | float):
        return f"{value * 100:.1f} %".replace(".", ",")
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, dict):
        return "; ".join(f"{rule_title(str(k))}: {v}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return f"{len(value)} шт."
    if column.get("key") == "rule" and isinstance(value, str):
        return rule_title(value)
    return str(value)
