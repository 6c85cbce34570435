"""The remarks sheet (листок замечаний) of a class journal, from its findings (pure).

One row per remark, in the columns of the paper sheet: the date of the check,
the remark with its rule (by its Russian title) and clause, the teacher (by
name), the date it was fixed and its status, then the subject, a waiver's
justification and an empty column for the teacher's signature; the ids follow
for programs. Withdrawn findings (their cause disappeared before anyone acted)
are not remarks and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.events.rules import rule_title

STATUS_RU = {"open": "не устранено", "fixed": "устранено", "waived": "снято с обоснованием"}
COLUMNS_RU = ("№", "Дата проверки", "Замечание", "Правило", "Пункт положения", "Учитель",
              "Дата устранения", "Отметка об устранении", "Предмет", "Обоснование",
              "Подпись учителя", "teacher_id", "rule_id", "finding_id")
WIDTHS = (5, 14, 70, 34, 10, 28, 16, 22, 20, 40, 16, 14, 22, 16)


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
    teacher: str = ""
    subject: str = ""
    justification: str = ""
    finding_id: str = ""

    def cells(self) -> tuple[Any, ...]:
        """The row as a table shows it: dates as ДД.ММ.ГГГГ text."""
        return (self.number, self.checked_on.strftime("%d.%m.%Y"), self.remark,
                rule_title(self.rule), self.clause, self.teacher or self.teacher_id or "",
                self.fixed_on.strftime("%d.%m.%Y") if self.fixed_on else "",
                STATUS_RU.get(self.status, self.status), self.subject, self.justification,
                "", self.teacher_id or "", self.rule, self.finding_id)

    def typed_cells(self) -> tuple[Any, ...]:
        """The row for a workbook: dates as dates (the sheet formats them)."""
        cells = list(self.cells())
        cells[1], cells[6] = self.checked_on, self.fixed_on
        return tuple(cells)


def remarks_sheet(findings: Iterable[dict[str, Any]],
                  teachers: dict[str, str] | None = None,
                  subjects: dict[str, str] | None = None) -> list[RemarkRow]:
    """Rows in order of the check's date, then the finding's date and rule; ``teachers``
    and ``subjects`` name the ids (an id stays where no name is known)."""
    teachers, subjects = teachers or {}, subjects or {}
    kept = [f for f in findings if f["status"] in STATUS_RU]
    kept.sort(key=lambda f: (f["detected_at"][:10], f["date"], f["rule"], f["id"]))
    rows = []
    for number, finding in enumerate(kept, start=1):
        fixed_on, justification = None, ""
        if finding["status"] in ("fixed", "waived"):
            closing = [step for step in finding.get("history", [])
                       if step["status"] == finding["status"]]
            if closing:
                fixed_on = date.fromisoformat(closing[-1]["at"][:10])
                justification = str(closing[-1].get("comment") or "")
        teacher_id, subject_id = finding.get("teacher_id"), finding.get("subject_id")
        rows.append(RemarkRow(
            number=number, checked_on=date.fromisoformat(finding["detected_at"][:10]),
            remark=finding["message"], rule=finding["rule"], clause=finding["clause"],
            teacher_id=teacher_id, fixed_on=fixed_on, status=finding["status"],
            teacher=teachers.get(teacher_id or "", teacher_id or ""),
            subject=subjects.get(subject_id or "", subject_id or ""),
            justification=justification, finding_id=str(finding.get("id") or "")))
    return rows
