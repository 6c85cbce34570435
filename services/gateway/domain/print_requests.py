"""What a print job request must contain, and who may ask for which document (pure)."""

from __future__ import annotations

import re
from typing import Any

from services.gateway.domain.access import Principal, Role

#: kind -> (required parameters, optional parameters)
PRINT_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "class_journal": (("class_id",), ("term_id", "year")),
    "student_report": (("student_id", "term_id"), ()),
    "final_statement": (("class_id",), ()),
    "report": (("report_id",), ()),
    "remarks_sheet": (("class_id",), ("blank",)),
    # batches: one job, one download
    "class_journals": ((), ("term_id", "year", "bundle")),
    "student_reports": (("class_id", "term_id"), ("bundle",)),
}
BUNDLES = ("pdf", "zip")
#: what only the school's administration prints (every class at once)
SCHOOL_WIDE = frozenset({"class_journals"})
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
#: who may ask for which kind (a class teacher only for their own class: the printer,
#: which knows the rosters, checks it; a teacher only for reports made for them)
MAY_PRINT: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(PRINT_KINDS),
    Role.DIRECTOR: frozenset(PRINT_KINDS),
    Role.DEPUTY: frozenset(PRINT_KINDS),
    Role.CLASS_TEACHER: frozenset(PRINT_KINDS) - SCHOOL_WIDE,
    Role.TEACHER: frozenset({"report"}),
}


def print_request_errors(body: object) -> dict[str, Any]:
    """Errors by field of ``{"kind", "parameters", "school_id"?}`` (empty: valid).

    Parameter errors are nested under ``parameters``, as for report requests:
    ``{"parameters": {"class_id": ["is required"]}}``.
    """
    if not isinstance(body, dict):
        return {"_schema": ["expected {kind, parameters, school_id}"]}
    unknown = set(body) - {"kind", "parameters", "school_id"}
    if unknown:
        return {name: ["unknown field"] for name in sorted(unknown)}
    kind = body.get("kind")
    if kind not in PRINT_KINDS:
        return {"kind": [f"must be one of {', '.join(PRINT_KINDS)}"]}
    parameters = body.get("parameters")
    if not isinstance(parameters, dict):
        return {"parameters": {"_schema": ["must be an object"]}}
    required, optional = PRINT_KINDS[kind]
    errors: dict[str, list[str]] = {}
    for name in required:
        if name not in parameters:
            errors[name] = ["is required"]
    for name, value in parameters.items():
        if name not in required and name not in optional:
            errors[name] = [f"is not a parameter of {kind}"]
        elif name == "year":
            if not isinstance(value, str) or not re.match(r"^\d{4}-\d{4}$", value):
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
    return {"parameters": errors} if errors else {}


def print_scope(who: Principal) -> dict[str, Any] | None:
    """Whose view the job is printed for (the printer refuses a class that is not theirs)."""
    if who.role in (Role.CLASS_TEACHER, Role.TEACHER) and who.teacher_id:
        return {"role": who.role.value, "teacher_id": who.teacher_id}
    return None
