"""The class teacher's export of a class journal: CSV (flat) and XLSX (grids).

The workbook is ready to read and print as it opens: the school and class by
name, dates as dates (ДД.ММ.ГГГГ), the heading row frozen and filtered, A4
landscape one page wide with the heading on every printed page, and a sheet
with the legend of the attendance codes (the same as the printed journal's).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.backup.domain.class_journal import FLAT_COLUMNS, LESSON_COLUMNS_RU, ClassJournal
from shared.events.journal_codes import LEGEND
from shared.spreadsheets import append_row, csv_row, xlsx_text

SHEET_TITLE_LIMIT = 31  # Excel's limit
DATE_FORMAT = "DD.MM.YYYY"
LESSON_WIDTHS = (12, 6, 24, 10, 50, 40, 30, 14, 14, 18)


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
    append_row(sheet, [journal.school_name or ""])
    append_row(sheet, [f"Класс {journal.class_name or journal.class_id}",
                       f"{journal.academic_year} учебный год"])
    append_row(sheet, [*LESSON_COLUMNS_RU, "subject_id", "teacher_id", "lesson_id"])
    heading = sheet.max_row
    for lesson in journal.lessons:
        append_row(sheet, [_date(lesson["date"]), lesson["period"],
                           journal.subjects.get(lesson["subject_id"], lesson["subject_id"]),
                           lesson["subgroup"], lesson["topic"], lesson["homework"],
                           journal.teachers.get(lesson["teacher_id"], lesson["teacher_id"]),
                           lesson["subject_id"], lesson["teacher_id"], lesson.get("lesson_id")])
    for (cell,) in sheet[f"A{heading + 1}:A{max(sheet.max_row, heading + 1)}"]:
        cell.number_format = DATE_FORMAT
    for index, width in enumerate(LESSON_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    _ready(sheet, heading, len(LESSON_COLUMNS_RU) + 3)
    used: set[str] = {"Уроки", "Обозначения"}
    for grid in journal.grids:
        title = _title(grid.subject or "—", used)
        page = book.create_sheet(title)
        append_row(page, ["Ученик", *(_grid_label(column) for column in grid.dates)])
        for _, name in journal.students:
            row = grid.cells.get(name, {})
            append_row(page, [name, *(row.get(column, "") for column in grid.dates)])
        page.column_dimensions["A"].width = 34
        _ready(page, 1, len(grid.dates) + 1, freeze="B2")
    legend = book.create_sheet("Обозначения")
    append_row(legend, ["Запись", "Что означает"])
    for code, meaning in LEGEND:
        append_row(legend, [code, meaning])
    legend.column_dimensions["B"].width = 60
    _ready(legend, 1, 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ready(sheet: Any, heading: int, columns: int, freeze: str | None = None) -> None:
    """Bold frozen heading with a filter; A4 landscape, one page wide, heading repeated."""
    for cell in sheet[heading]:
        cell.font = Font(bold=True)
    last = get_column_letter(max(columns, 1))
    sheet.freeze_panes = freeze or f"A{heading + 1}"
    sheet.auto_filter.ref = f"A{heading}:{last}{max(sheet.max_row, heading)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{heading}:{heading}"


def _date(text: Any) -> Any:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return text


def _grid_label(column: str) -> str:
    """«2026-09-02/3» -> «02.09 (3)»: the day and the lesson number."""
    day, _, period = column.partition("/")
    try:
        when = date.fromisoformat(day).strftime("%d.%m")
    except ValueError:
        return column
    return f"{when} ({period})" if period and period != "None" else when


def _title(text: str, used: set[str]) -> str:
    clean = "".join(c for c in xlsx_text(text) if c not in "[]:*?/\\")[:SHEET_TITLE_LIMIT] or "—"
    title, n = clean, 2
    while title in used:
        title = f"{clean[:SHEET_TITLE_LIMIT - 3]} {n}"
        n += 1
    used.add(title)
    return title
