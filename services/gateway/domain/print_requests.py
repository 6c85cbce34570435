"""What a print job request must contain, and who may ask for which document (pure).

The kinds and their parameters are defined once, in ``shared/events/print_kinds.py``
(the printer checks its commands by them too); who may print which is the gateway's.
"""

from __future__ import annotations

from typing import Any

from services.gateway.domain.access import Principal, Role
from shared.events import print_kinds
from shared.events.print_kinds import PRINT_KINDS

#: what only the school's administration prints (every class at once)
SCHOOL_WIDE = frozenset({"class_journals"})
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
    if kind_errors := print_kinds.kind_errors(kind):
        return {"kind": kind_errors}
    parameters = body.get("parameters")
    if not isinstance(parameters, dict):
        return {"parameters": {"_schema": ["must be an object"]}}
    errors = print_kinds.parameter_errors(str(kind), parameters)
    return {"parameters": errors} if errors else {}


def print_scope(who: Principal) -> dict[str, Any] | None:
    """Whose view the job is printed for (the printer refuses a class that is not theirs)."""
    if who.role in (Role.CLASS_TEACHER, Role.TEACHER) and who.teacher_id:
        return {"role": who.role.value, "teacher_id": who.teacher_id}
    return None
