"""Workbooks a deputy director opens in Excel: formats, order, frozen heading, filter, print
setup; CSV stays UTF-8 with a BOM. Written through the gateway's own writers and read back
with openpyxl."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from services.gateway.queries.names import Names
from services.gateway.web.downloads import csv_body, xlsx_body
from services.gateway.web.reports import _sheets


def _fill_rate(class_ids: list[str]) -> dict[str, Any]:
    columns = [{"key": "class_id", "title": "Класс", "definition": None},
               {"key": "subject", "title": "Предмет", "definition": None},
               {"key": "topics_on_time", "title": "Темы в срок", "definition": "доля уроков",
                "format": "percent"},
               {"key": "marks_per_lesson", "title": "Отметок на урок", "definition": None,
                "format": "decimal"},
               {"key": "open_findings", "title": "Открытые замечания", "definition": None,
                "format": "rule_counts"}]
    rows = [{"class_id": c, "subject": "Математика", "topics_on_time": 0.9615,
             "marks_per_lesson": 0.83, "open_findings": {"lesson.topic.late": 1}}
            for c in class_ids]
    return {"kind": "fill_rate", "title": "Заполнение электронного журнала",
            "summary": [["Период", "01.10.2026 – 14.10.2026"]],
            "tables": [{"name": "rows", "title": "Классы, предметы, учителя",
                        "columns": columns, "rows": rows}]}


NAMES = Names(school="Средняя школа № 7", classes={
    "10a": "10 «А»", "10b": "10 «Б»", "11a": "11 «А»", "1a": "1 «А»", "1b": "1 «Б»",
    "2a": "2 «А»"})


def test_a_report_workbook_is_formatted_sorted_frozen_filtered_and_set_up_for_a4() -> None:
    content = _fill_rate(["10a", "10b", "11a", "1a", "1b", "2a"])  # as a database sorts ids
    book = load_workbook(BytesIO(xlsx_body(_sheets(content, NAMES, typed=True))))
    sheet = book.active
    assert sheet is not None
    assert sheet["A1"].value == "Средняя школа № 7"
    heading = next(row[0].row for row in sheet.iter_rows() if row[0].value == "Класс")
    classes = [sheet.cell(r, 1).value for r in range(heading + 1, sheet.max_row + 1)]
    assert classes == ["1 «А»", "1 «Б»", "2 «А»", "10 «А»", "10 «Б»", "11 «А»"]
    # the ids stay, in an extra last column
    assert sheet.cell(heading, 6).value == "class_id"
    assert sheet.cell(heading + 1, 6).value == "1a"
    share = sheet.cell(heading + 1, 3)
    assert share.value == 0.9615 and share.number_format == "0.0%"
    assert sheet.cell(heading + 1, 4).number_format == "0.00"
    # counts per rule read as the rule's title, not a raw structure
    assert sheet.cell(heading + 1, 5).value == "Тема урока внесена не в день урока: 1"
    assert sheet.freeze_panes == f"A{heading + 1}"
    assert sheet.auto_filter.ref == f"A{heading}:F{sheet.max_row}"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == str(sheet.PAPERSIZE_A4)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == f"${heading}:${heading}"


def test_a_csv_stays_utf8_with_a_bom_and_keeps_the_shares_as_the_report_holds_them() -> None:
    (sheet,) = _sheets(_fill_rate(["2a", "1a"]), NAMES)
    body = csv_body(sheet)
    assert body.startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "Средняя школа № 7"
    data = [line for line in lines if line.startswith(("1 «А»", "2 «А»"))]
    assert [line.split(",")[0] for line in data] == ["1 «А»", "2 «А»"]
    assert data[0].split(",")[2] == "0.9615"
