"""File names a person can read: «5А_журнал_2026-2027_I-полугодие.pdf» (pure).

The printed file is stored under its job's folder with this name, so the
download, the archive registry and the PDFs inside a backup all carry it.
"""

from __future__ import annotations

import re

from services.printer.domain.journal import TERM_LABELS, Term

#: characters no file system or ZIP reader likes, and the quotes of «5 «А»»
_UNSAFE = re.compile(r'[\\/:*?"<>|«»\'“”„\x00-\x1f]')
_SPACES = re.compile(r"\s+")


def safe(text: str) -> str:
    """``text`` as part of a file name: no path or quote characters, spaces as «_»."""
    cleaned = _UNSAFE.sub("", text).strip()
    return _SPACES.sub("_", cleaned)[:80] or "без_имени"


def class_part(class_name: str) -> str:
    """«5 «А»» -> «5А»: the class as written on a folder's spine."""
    return safe(class_name).replace("_", "")


def period_part(terms: list[Term], year: bool) -> str:
    """«год», «I-четверть», «II-полугодие», «I-II-четверть» for several terms."""
    if year or not terms:
        return "год"
    labels = "-".join(TERM_LABELS.get(t.number, str(t.number)) for t in terms)
    kind = "полугодие" if terms[0].kind == "half_year" else "четверть"
    return f"{labels}-{kind}"


def journal_file(class_name: str, academic_year: str, terms: list[Term], year: bool) -> str:
    return f"{class_part(class_name)}_журнал_{safe(academic_year)}_{period_part(terms, year)}.pdf"


def student_report_file(class_name: str, student_name: str, academic_year: str,
                        term: Term) -> str:
    return (f"{class_part(class_name)}_{safe(student_name)}_отчёт_{safe(academic_year)}_"
            f"{period_part([term], False)}.pdf")


def final_statement_file(class_name: str, academic_year: str) -> str:
    return f"{class_part(class_name)}_итоговая-ведомость_{safe(academic_year)}.pdf"


def remarks_sheet_file(class_name: str, academic_year: str, blank: bool) -> str:
    kind = "лист-замечаний-бланк" if blank else "лист-замечаний"
    return f"{class_part(class_name)}_{kind}_{safe(academic_year)}.pdf"


def report_file(title: str, report_id: str) -> str:
    return f"{safe(title)}_{safe(report_id)[-12:]}.pdf"


def bundle_file(what: str, academic_year: str, period: str, extension: str) -> str:
    return f"{safe(what)}_{safe(academic_year)}_{period}.{extension}"
