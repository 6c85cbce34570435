"""Reads of the classes read model (``gateway_classes``: class ids and homeroom teachers)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import classes_view


def console_classes(connection: Connection, school_id: str) -> list[tuple[str, str | None]]:
    """(class id, homeroom teacher id) of every class whose roster reached the gateway."""
    return [(row.class_id, row.homeroom_teacher_id) for row in connection.execute(
        select(classes_view.c.class_id, classes_view.c.homeroom_teacher_id)
        .where(classes_view.c.school_id == school_id))]


def console_homeroom_of(connection: Connection, school_id: str, class_id: str) -> str | None:
    """The class's homeroom teacher; None for a class the gateway has no roster of."""
    return connection.execute(select(classes_view.c.homeroom_teacher_id).where(
        classes_view.c.school_id == school_id, classes_view.c.class_id == class_id)).scalar()
