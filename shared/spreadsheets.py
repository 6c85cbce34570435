"""Cells of the CSV and XLSX files Kozomol writes, made safe from formula injection.

Names, topics and remarks come from Kundoluk's webhooks: a teacher named
``=HYPERLINK(…)`` must reach the deputy director's spreadsheet as text, never
as a live formula (OWASP, "CSV Injection"). Every CSV and XLSX writer goes
through these two functions.

- XLSX has cell types: a text cell is written as text (openpyxl would
  otherwise store a string starting with ``=`` as a formula), so the value
  stays exactly what was sent.
- CSV has no types: a text that a spreadsheet would read as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
  prefixed with an apostrophe, which spreadsheets show as text and hide.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

#: What makes Excel, LibreOffice or Google Sheets read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell value: text a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def xlsx_text(value: Any) -> Any:
    """Text XLSX (XML 1.0) can hold: control characters become U+FFFD (openpyxl refuses
    them, which made a 500 of an id holding one)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row to an XLSX sheet with every text cell stored as text, not a formula."""
    sheet.append([xlsx_text(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
