"""A school's own rule parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from services.checker.adapters.tables import parameters
from shared.db.inserts import conflict_insert


def load(connection: Connection, school_id: str) -> dict[str, Any]:
    """The values the school changed (the rest are the catalog's defaults)."""
    found = connection.execute(select(parameters.c.parameters)
                               .where(parameters.c.school_id == school_id)).scalar()
    return dict(found or {})


def save(connection: Connection, school_id: str, values: dict[str, Any], actor: str,
         now: datetime) -> dict[str, Any]:
    statement = conflict_insert(connection, parameters).values(
        school_id=school_id, parameters=values, updated_at=now, updated_by=actor[:100])
    connection.execute(statement.on_conflict_do_update(
        index_elements=["school_id"],
        set_={"parameters": statement.excluded.parameters,
              "updated_at": statement.excluded.updated_at,
              "updated_by": statement.excluded.updated_by}))
    return values
