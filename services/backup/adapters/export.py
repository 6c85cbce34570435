"""The class teacher's export of a class journal: CSV (flat) and XLSX (grids)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from services.backup.domain.class_journal import FLAT_COLUMNS, LESSON_COLUMNS_RU, ClassJournal
from shared.spreadsheets import append_row, csv_row, xlsx_text

SHEET_TITLE_LIMIT = 31  # Excel's limit


def to_csv(journal: ClassJournal) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FLAT_COLUMNS)
    writer.writerows(csv_row("" if v is None else v for v in row) for row in journal.flat)
    return ("\ufeff" + out.getvalue()).encode()  # BOM: Excel opens Cyrillic CSV correctly


def to_xlsx(journal: ClassJournal) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Уроки"
    append_row(sheet, [f"Класс {journal.class_id}", journal.academic_year])
    append_row(sheet, LESSON_COLUMNS_RU)
    for lesson in journal.lessons:
        append_row(sheet, [lesson["date"], lesson["period"], lesson["subject_id"],
                           lesson["subgroup"], lesson["topic"], lesson["homework"],
                           lesson["teacher_id"]])
    used: set[str] = set()
    for grid in journal.grids:
        title = _title(grid.subject or "—", used)
        page = book.create_sheet(title)
        append_row(page, ["Ученик", *grid.dates])
        for _, name in journal.students:
            row = grid.cells.get(name, {})
            append_row(page, [name, *(row.get(column, "") for column in grid.dates)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _title(text: str, used: set[str]) -> str:
    clean = "".join(c for c in xlsx_text(text) if c not in "[]:*?/\\")[:SHEET_TITLE_LIMIT] or "—"
    title, n = clean, 2
    while title in used:
        title = f"{clean[:SHEET_TITLE_LIMIT - 3]} {n}"
        n += 1
    used.add(title)
    return title
