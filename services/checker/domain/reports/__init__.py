"""Monitoring reports of clause 4.2 (pure): fill rate, quarter analysis, program, teachers.

Two steps. The sweep turns the facts into small statistics that stay valid
until the facts change: one :class:`LessonStat` per live lesson (was the
topic, the homework, the attendance entered by the deadline; how many marks,
how many of them on time) and the number of term marks set per class, subject
and term. A report then only sums those rows and counts findings, so it takes
milliseconds even for a school year, and every figure can be traced: each
column says how it is computed and a row can list the lessons behind it.

A report is plain data (:class:`Report`): a Russian title, label/value pairs
for its heading, and tables whose columns carry a key, a Russian heading and a
definition. The API, CSV/XLSX downloads and the printer all render that.
"""

from __future__ import annotations

from services.checker.domain.reports.fill_rate import (
    FILL_RATE_COLUMNS,
    FILL_RATE_DEFINITIONS,
    FillRateRow,
    fill_rate_report,
    fill_rate_table,
)
from services.checker.domain.reports.journal_visits import (
    JOURNAL_VISITS_COLUMNS,
    iso_or_none,
    journal_visits_report,
)
from services.checker.domain.reports.model import (
    KINDS,
    Column,
    Report,
    ReportError,
    Table,
    percent,
    ru_date,
)
from services.checker.domain.reports.program import (
    PROGRAM_COLUMNS,
    Held,
    ProgramRow,
    program_completion,
    program_report,
    program_table,
)
from services.checker.domain.reports.quarter_analysis import (
    FINAL_COLUMNS,
    FINDINGS_COLUMNS,
    quarter_analysis,
)
from services.checker.domain.reports.schedule import FILL_RATE_DAYS, due_reports
from services.checker.domain.reports.school_book import (
    WHOLE_SCHOOL,
    FindingRef,
    Plan,
    SchoolBook,
    Scope,
    school_book,
)
from services.checker.domain.reports.statistics import (
    LessonStat,
    final_mark_counts,
    lesson_statistics,
)
from services.checker.domain.reports.teacher_summary import SUMMARY_COLUMNS, teacher_summary

__all__ = [
    "FILL_RATE_COLUMNS",
    "FILL_RATE_DAYS",
    "FILL_RATE_DEFINITIONS",
    "FINAL_COLUMNS",
    "FINDINGS_COLUMNS",
    "JOURNAL_VISITS_COLUMNS",
    "KINDS",
    "PROGRAM_COLUMNS",
    "SUMMARY_COLUMNS",
    "WHOLE_SCHOOL",
    "Column",
    "FillRateRow",
    "FindingRef",
    "Held",
    "LessonStat",
    "Plan",
    "ProgramRow",
    "Report",
    "ReportError",
    "SchoolBook",
    "Scope",
    "Table",
    "due_reports",
    "fill_rate_report",
    "fill_rate_table",
    "final_mark_counts",
    "iso_or_none",
    "journal_visits_report",
    "lesson_statistics",
    "percent",
    "program_completion",
    "program_report",
    "program_table",
    "quarter_analysis",
    "ru_date",
    "school_book",
    "teacher_summary",
]
