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
    writer.writerows(sheet.heading_lines)
    if sheet.heading_lines:
        writer.writerow([])
    writer.writerow(sheet.headings)
    writer.writerows(sheet.rows)
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
            page.append(list(line))
        if sheet.heading_lines:
            page.append([])
        page.append(list(sheet.headings))
        for cell in page[page.max_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in sheet.rows:
            page.append([_cell(value) for value in row])
        for index, heading in enumerate(sheet.headings, start=1):
            width = sheet.widths[index - 1] if index <= len(sheet.widths) else \
                min(40, max(10, len(str(heading)) + 2))
            page.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download(body: bytes, mimetype: str, filename: str) -> Response:
    """An attachment; a name beyond ASCII («5А_журнал….pdf») also goes as RFC 6266
    ``filename*`` (UTF-8), with an ASCII stand-in for old clients."""
    if filename.isascii():
        return Response(body, mimetype=mimetype,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{fallback}"; '
                               f"filename*=UTF-8''{quote(filename, safe='')}"})


def _cell(value: Any) -> Any:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel: at most 31 characters, none of []:*?/\\, unique in the book."""
    name = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Лист"
    candidate, number = name, 2
    while candidate in used:
        suffix = f" ({number})"
        candidate, number = name[:31 - len(suffix)] + suffix, number + 1
    used.add(candidate)
    return candidate
