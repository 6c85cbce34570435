"""Reads of the rule parameters read model (``gateway_rule_parameters``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import rule_parameters_view
from shared.events.rules import parameter_defaults


def console_parameters_in_force(connection: Connection, school_id: str) -> dict[str, Any]:
    """Every parameter as the checker applies it for the school (defaults where unset)."""
    own = connection.execute(select(rule_parameters_view.c.parameters).where(
        rule_parameters_view.c.school_id == school_id)).scalar()
    return {**parameter_defaults(), **dict(own or {})}
