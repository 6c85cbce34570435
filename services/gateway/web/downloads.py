"""Tables as downloads: CSV (UTF-8 with BOM, so Excel reads Cyrillic) and XLSX (openpyxl).

Every workbook sheet is ready to read and print as it opens: number formats per
column (shares as percentages, dates as ДД.ММ.ГГГГ), the heading row frozen and
filtered, A4 landscape fitted to the page width with the heading repeated on
every printed page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from shared.events.rules import rule_title
from shared.spreadsheets import append_row, csv_row, xlsx_text

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Sheet:
    title: str
    headings: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()
    heading_lines: Sequence[Sequence[str]] = ()  # label/value lines above the table
    #: column index -> "percent" (a share 0…1), "date", "decimal", "integer"
    formats: Mapping[int, str] = field(default_factory=dict)


#: what each column format looks like in Excel
NUMBER_FORMATS = {"percent": "0.0%", "date": "DD.MM.YYYY", "decimal": "0.00",
                  "integer": "0"}


def csv_body(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(csv_row(line) for line in sheet.heading_lines)
    if sheet.heading_lines:
        writer.writerow([])
    writer.writerow(csv_row(sheet.headings))
    writer.writerows(csv_row(row) for row in sheet.rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def xlsx_body(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    used: set[str] = set()
    for sheet in sheets:
        page = book.create_sheet(_sheet_name(sheet.title, used))
        for line in sheet.heading_lines:
            append_row(page, line)
        if sheet.heading_lines:
            page.append([])
        append_row(page, sheet.headings)
        heading_row = page.max_row
        for cell in page[heading_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in sheet.rows:
            append_row(page, [_typed(_cell(value), sheet.formats.get(index))
                              for index, value in enumerate(row)])
        for index, heading in enumerate(sheet.headings, start=1):
            width = sheet.widths[index - 1] if index <= len(sheet.widths) else \
                min(40, max(10, len(str(heading)) + 2))
            page.column_dimensions[get_column_letter(index)].width = width
        for index, kind in sheet.formats.items():
            letter = get_column_letter(index + 1)
            last_row = max(page.max_row, heading_row + 1)
            for (cell,) in page[f"{letter}{heading_row + 1}:{letter}{last_row}"]:
                cell.number_format = NUMBER_FORMATS.get(kind, "General")
        _ready_to_read_and_print(page, heading_row, len(sheet.headings))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _ready_to_read_and_print(page: Any, heading_row: int, columns: int) -> None:
    """Frozen heading, a filter on it, A4 landscape one page wide, the heading on every
    printed page."""
    last = get_column_letter(max(columns, 1))
    page.freeze_panes = f"A{heading_row + 1}"
    page.auto_filter.ref = f"A{heading_row}:{last}{max(page.max_row, heading_row)}"
    page.page_setup.orientation = "landscape"
    page.page_setup.paperSize = page.PAPERSIZE_A4
    page.page_setup.fitToWidth = 1
    page.page_setup.fitToHeight = 0
    page.sheet_properties.pageSetUpPr.fitToPage = True
    page.print_title_rows = f"{heading_row}:{heading_row}"


def _typed(value: Any, kind: str | None) -> Any:
    """An ISO date text as a date in a date column (Excel sorts and filters it as one)."""
    if kind == "date" and isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    if kind == "date" and isinstance(value, datetime):
        return value.date()
    return value


def download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": content_disposition(filename)})


def content_disposition(filename: str) -> str:
    """``attachment`` with the file name as RFC 6266 wants it: an ASCII fallback
    (anything else, quotes and separators included, becomes ``_``) and the real
    name percent-encoded as UTF-8, so ``5а`` or a crafted ``x"; filename=y`` can
    neither break the header nor add a parameter."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_"
                       for ch in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _cell(value: Any) -> Any:
    if isinstance(value, dict):  # counts per rule: by the rule's Russian title
        return "; ".join(f"{rule_title(str(k))}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel: at most 31 characters, none of []:*?/\\, unique in the book."""
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in xlsx_text(title))[:31] or "Лист"
    candidate, number = name, 2
    while candidate in used:
        suffix = f" ({number})"
        candidate, number = name[:31 - len(suffix)] + suffix, number + 1
    used.add(candidate)
    return candidate
