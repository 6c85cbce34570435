"""Reading the names the gateway keeps: one look-up per listing, ids where none came."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from services.gateway.adapters.tables import classes_view, names_view


@dataclass
class Names:
    school: str = ""
    classes: dict[str, str] = field(default_factory=dict)
    teachers: dict[str, str] = field(default_factory=dict)
    subjects: dict[str, str] = field(default_factory=dict)

    def class_name(self, class_id: str | None) -> str:
        return self.classes.get(class_id or "", class_id or "")

    def teacher(self, teacher_id: str | None) -> str:
        return self.teachers.get(teacher_id or "", teacher_id or "")

    def subject(self, subject_id: str | None) -> str:
        return self.subjects.get(subject_id or "", subject_id or "")


def school_names(connection: Connection, school_id: str) -> Names:
    names = Names(school=school_id)
    for row in connection.execute(select(names_view).where(
            names_view.c.school_id == school_id)):
        if row.kind == "school":
            names.school = row.name
        elif row.kind == "class":
            names.classes[row.entity_id] = row.name
        elif row.kind == "teacher":
            names.teachers[row.entity_id] = row.name
        elif row.kind == "subject":
            names.subjects[row.entity_id] = row.name
    return names


def class_known(connection: Connection, school_id: str, class_id: str) -> bool:
    """Whether a roster of the class has reached the gateway."""
    return connection.execute(select(classes_view.c.class_id).where(
        classes_view.c.school_id == school_id, classes_view.c.class_id == class_id)
    ).first() is not None
