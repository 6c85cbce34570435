"""The remarks sheet rows, from findings and their history."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.gateway.domain.remarks import remarks_sheet


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
    assert rows[1].cells()[-1] == "устранено"
    assert rows[0].cells()[1] == "10.09.2026"
