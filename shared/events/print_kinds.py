"""The documents the printer makes, and the parameters each takes (pure).

One definition for the gateway, which refuses a bad print job with a field-level
``422`` before sending the ``print.request`` command, and for the printer, which
answers a bad command (from any sender) with ``print.failed``. Who may print
which kind is the gateway's access policy and stays there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: kind -> (required parameters, optional parameters)
PRINT_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "class_journal": (("class_id",), ("term_id", "year")),
    "student_report": (("student_id", "term_id"), ()),
    "final_statement": (("class_id",), ()),
    "report": (("report_id",), ()),
    "remarks_sheet": (("class_id",), ("blank",)),
    # batches: one job, one download (a PDF with a bookmark per document, or a ZIP)
    "class_journals": ((), ("term_id", "year", "bundle")),
    "student_reports": (("class_id", "term_id"), ("bundle",)),
}
#: how a batch is delivered
BUNDLES = ("pdf", "zip")
ACADEMIC_YEAR = re.compile(r"^\d{4}-\d{4}$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def kind_errors(kind: object) -> list[str]:
    """What is wrong with a print job's kind (empty: it is one the printer makes)."""
    return [] if kind in PRINT_KINDS else [f"must be one of {', '.join(PRINT_KINDS)}"]


def parameter_errors(kind: str, parameters: Mapping[str, Any]) -> dict[str, list[str]]:
    """Errors by parameter of a job of a known ``kind`` (empty: valid)."""
    required, optional = PRINT_KINDS[kind]
    errors: dict[str, list[str]] = {}
    for name in required:
        if name not in parameters:
            errors[name] = ["is required"]
    for name, value in parameters.items():
        if name not in required and name not in optional:
            errors[name] = [f"is not a parameter of {kind}"]
        elif name == "year":
            if not isinstance(value, str) or not ACADEMIC_YEAR.match(value):
                errors[name] = ["must look like 2026-2027"]
        elif name == "bundle":
            if value not in BUNDLES:
                errors[name] = [f"must be one of {', '.join(BUNDLES)}"]
        elif name == "blank":
            if not isinstance(value, bool):
                errors[name] = ["must be true or false"]
        elif not isinstance(value, str) or not _ID.match(value):
            errors[name] = ["must be an id: 1-64 characters of A-Z a-z 0-9 _ . : -"]
    if kind in ("class_journal", "class_journals") and "term_id" in parameters \
            and "year" in parameters:
        errors["_schema"] = ["give term_id or year, not both"]
    return errors
