"""Each school's rule parameters as the checker announced them (``gateway_rule_parameters``,
kept by ``handlers/findings.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import rule_parameters_view
from services.gateway.queries import Source, reading
from shared.events.rules import parameter_defaults


def school_parameters(source: Source, school_id: str) -> dict[str, Any]:
    """The parameters announced for the school; empty when none were (defaults apply)."""
    with reading(source) as connection:
        found = connection.execute(select(rule_parameters_view.c.parameters).where(
            rule_parameters_view.c.school_id == school_id)).scalar()
    return dict(found or {})


def console_parameters_in_force(connection: Connection, school_id: str) -> dict[str, Any]:
    """Every parameter as the checker applies it for the school (defaults where unset)."""
    own = connection.execute(select(rule_parameters_view.c.parameters).where(
        rule_parameters_view.c.school_id == school_id)).scalar()
    return {**parameter_defaults(), **dict(own or {})}
