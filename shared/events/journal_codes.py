"""The codes a class journal writes in its cells, one vocabulary for every paper and export.

The printed journal (PDF), the class teacher's export (XLSX, CSV) and anything
else that shows attendance use these codes and print this legend, so «о» means
the same late arrival everywhere.
"""

from __future__ import annotations

ABSENT = "н"          # absent, no reason given (or unexcused)
ILLNESS = "б"         # absent for illness
EXCUSED = "у"         # absent for an excused reason
LATE = "о"            # late (опоздание)
EXEMPT = "осв"        # exempt from the subject, no entry
MISSING_FINAL = "—"   # a final mark due (the period ended) but not entered

#: attendance.recorded's reason -> the code in the cell
ABSENCE_CODES: dict[str | None, str] = {None: ABSENT, "unexcused": ABSENT,
                                        "illness": ILLNESS, "excused": EXCUSED}

#: (code, what it means), in the order a legend lists them
LEGEND: tuple[tuple[str, str], ...] = (
    (ABSENT, "отсутствовал (причина не указана или неуважительная)"),
    (ILLNESS, "отсутствовал по болезни"),
    (EXCUSED, "отсутствовал по уважительной причине"),
    (LATE, "опоздал"),
    (EXEMPT, "освобождён от предмета"),
    ("н/а", "не аттестован (отметка, выставленная учителем)"),
    (MISSING_FINAL, "итоговая отметка не выставлена, хотя период окончен"),
)


def absence_code(reason: str | None) -> str:
    return ABSENCE_CODES.get(reason, ABSENT)
