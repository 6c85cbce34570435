"""Tables as downloads: CSV (UTF-8 with BOM, so Excel reads Cyrillic) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

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
        for cell in page[page.max_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in sheet.rows:
            append_row(page, (_cell(value) for value in row))
        for index, heading in enumerate(sheet.headings, start=1):
            width = sheet.widths[index - 1] if index <= len(sheet.widths) else \
                min(40, max(10, len(str(heading)) + 2))
            page.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
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
