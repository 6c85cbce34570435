"""The remarks sheet rows, from findings and their history."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.gateway.domain.remarks import COLUMNS_RU, remarks_sheet


def finding(fid: str, status: str, detected: str, history: list[dict[str, Any]]) -> dict:
    return {"id": fid, "status": status, "detected_at": f"{detected}T10:00:00+00:00",
            "date": detected, "rule": "lesson.topic.late", "clause": "3.5, 4.4",
            "message": f"Замечание {fid}", "teacher_id": "t1", "history": history}


def test_rows_in_check_order_with_the_date_fixed_and_no_withdrawn_ones() -> None:
    rows = remarks_sheet([
        finding("b", "fixed", "2026-09-20", [
            {"at": "2026-09-20T10:00:00+00:00", "status": "open"},
            {"at": "2026-09-25T08:00:00+00:00", "status": "fixed"}]),
        finding("a", "open", "2026-09-10", [{"at": "2026-09-10T10:00:00+00:00",
                                             "status": "open"}]),
        finding("c", "withdrawn", "2026-09-05", []),
    ])
    assert [(r.number, r.remark, r.fixed_on) for r in rows] == [
        (1, "Замечание a", None), (2, "Замечание b", date(2026, 9, 25))]
    assert rows[1].cells()[7] == "устранено"
    assert rows[0].cells()[1] == "10.09.2026"


def test_rows_name_the_teacher_subject_and_rule_and_keep_a_waivers_justification() -> None:
    waived = {**finding("w", "waived", "2026-09-12", [
        {"at": "2026-09-12T10:00:00+00:00", "status": "open", "comment": None},
        {"at": "2026-09-14T09:00:00+00:00", "status": "waived",
         "comment": "урок перенесён приказом № 12"}]), "subject_id": "math"}
    (row,) = remarks_sheet([waived], {"t1": "Асанова Айгуль Бакытовна"},
                           {"math": "Математика"})
    cells = dict(zip(COLUMNS_RU, row.cells(), strict=True))
    assert cells["Учитель"] == "Асанова Айгуль Бакытовна"
    assert cells["Правило"] == "Тема урока внесена не в день урока"  # not lesson.topic.late
    assert cells["Предмет"] == "Математика"
    assert cells["Обоснование"] == "урок перенесён приказом № 12"
    assert cells["Отметка об устранении"] == "снято с обоснованием"
    assert cells["Дата устранения"] == "14.09.2026"
    assert cells["Подпись учителя"] == ""  # for the teacher's hand
    # the ids stay, as extra columns for programs
    assert (cells["teacher_id"], cells["rule_id"], cells["finding_id"]) == (
        "t1", "lesson.topic.late", "w")
    # a workbook gets dates as dates
    assert row.typed_cells()[1] == date(2026, 9, 12)
    # no name known: the id stands in
    (bare,) = remarks_sheet([waived])
    assert bare.cells()[5] == "t1"
