"""The year-end archive registry (clause 4.3): one entry per bound class journal (pure).

Entries are numbered per school and academic year (``2026-2027/001``) and are
never changed or deleted once made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

COLUMNS_RU = ("№", "Класс", "Учебный год", "Страниц", "SHA-256", "Дата", "Ответственный")


@dataclass(frozen=True)
class ArchiveEntry:
    number: int
    school_id: str
    class_id: str
    academic_year: str
    pages: int
    sha256: str
    pdf_key: str
    job_id: str
    registered_at: datetime
    responsible: str

    @property
    def registry_number(self) -> str:
        return f"{self.academic_year}/{self.number:03d}"

    def as_data(self) -> dict[str, Any]:
        moment = self.registered_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return {"number": self.number, "registry_number": self.registry_number,
                "school_id": self.school_id, "class_id": self.class_id,
                "academic_year": self.academic_year, "pages": self.pages,
                "sha256": self.sha256, "pdf_key": self.pdf_key, "job_id": self.job_id,
                "registered_at": moment.isoformat(), "responsible": self.responsible}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ArchiveEntry:
        return cls(number=int(data["number"]), school_id=str(data["school_id"]),
                   class_id=str(data["class_id"]), academic_year=str(data["academic_year"]),
                   pages=int(data["pages"]), sha256=str(data["sha256"]),
                   pdf_key=str(data["pdf_key"]), job_id=str(data["job_id"]),
                   registered_at=datetime.fromisoformat(data["registered_at"]),
                   responsible=str(data["responsible"]))

    def row_ru(self) -> tuple[Any, ...]:
        return (self.registry_number, self.class_id, self.academic_year, self.pages,
                self.sha256, self.registered_at.date().isoformat(), self.responsible)


def next_number(taken: Iterable[int]) -> int:
    return max(taken, default=0) + 1
