"""The class teacher's export of a class journal."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, select

from services.backup.adapters.export import to_csv, to_xlsx
from services.backup.adapters.tables import (
    journal,
)
from services.backup.domain.class_journal import build as build_class_journal
from services.backup.domain.derived import TableFolder

log = logging.getLogger(__name__)


def export_class_journal(connection: Connection, school_id: str, class_id: str,
                         fmt: str) -> bytes:
    """A class journal from the journal record, as CSV or XLSX."""
    folder = TableFolder()
    wanted = ("school.calendar", "teacher.profile", "class.roster", "subject.plan",
              "lesson.recorded", "lesson.deleted", "attendance.recorded", "mark.recorded",
              "mark.deleted")
    for row in connection.execute(select(journal.c.seq, journal.c.type, journal.c.body).where(
            journal.c.school_id == school_id, journal.c.type.in_(wanted))
            .execution_options(yield_per=2000)):
        folder.feed(row.seq, row.type, bytes(row.body))
    built = build_class_journal(folder, class_id)
    return to_csv(built) if fmt == "csv" else to_xlsx(built)
