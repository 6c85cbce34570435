"""The remarks sheet (листок замечаний) of a class journal, from its findings (pure).

One row per remark, in the columns of the paper sheet: the date of the check,
the remark with its rule and clause, the teacher, the date it was fixed, and
its status. Withdrawn findings (their cause disappeared before anyone acted)
are not remarks and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

STATUS_RU = {"open": "не устранено", "fixed": "устранено", "waived": "снято с обоснованием"}
COLUMNS_RU = ("№", "Дата проверки", "Замечание", "Правило", "Пункт положения", "Учитель",
              "Дата устранения", "Отметка об устранении")


@dataclass(frozen=True)
class RemarkRow:
    number: int
    checked_on: date
    remark: str
    rule: str
    clause: str
    teacher_id: str | None
    fixed_on: date | None
    status: str

    def cells(self) -> tuple[Any, ...]:
        return (self.number, self.checked_on.strftime("%d.%m.%Y"), self.remark, self.rule,
                self.clause, self.teacher_id or "",
                self.fixed_on.strftime("%d.%m.%Y") if self.fixed_on else "",
                STATUS_RU.get(self.status, self.status))


def remarks_sheet(findings: Iterable[dict[str, Any]]) -> list[RemarkRow]:
    """Rows in order of the check's date, then the finding's date and rule."""
    kept = [f for f in findings if f["status"] in STATUS_RU]
    kept.sort(key=lambda f: (f["detected_at"][:10], f["date"], f["rule"], f["id"]))
    rows = []
    for number, finding in enumerate(kept, start=1):
        fixed_on = None
        if finding["status"] in ("fixed", "waived"):
            closing = [step for step in finding.get("history", [])
                       if step["status"] == finding["status"]]
            if closing:
                fixed_on = date.fromisoformat(closing[-1]["at"][:10])
        rows.append(RemarkRow(
            number=number, checked_on=date.fromisoformat(finding["detected_at"][:10]),
            remark=finding["message"], rule=finding["rule"], clause=finding["clause"],
            teacher_id=finding.get("teacher_id"), fixed_on=fixed_on, status=finding["status"]))
    return rows
