"""The names and homeroom teachers the gateway keeps (``gateway_names``, ``gateway_classes``):
one look-up per listing, ids where no name came."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from services.gateway.adapters.tables import classes_view, names_view
from services.gateway.queries import Source, reading


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


def school_names(source: Source, school_id: str) -> Names:
    names = Names(school=school_id)
    with reading(source) as connection:
        rows = connection.execute(select(names_view).where(
            names_view.c.school_id == school_id)).all()
    for row in rows:
        if row.kind == "school":
            names.school = row.name
        elif row.kind == "class":
            names.classes[row.entity_id] = row.name
        elif row.kind == "teacher":
            names.teachers[row.entity_id] = row.name
        elif row.kind == "subject":
            names.subjects[row.entity_id] = row.name
    return names


def names_by_school(source: Source, school_ids: Iterable[str]) -> dict[str, Names]:
    """The names of each of these schools (a listing's), in one connection."""
    with reading(source) as connection:
        return {school_id: school_names(connection, school_id) for school_id in set(school_ids)}


def class_known(source: Source, school_id: str, class_id: str) -> bool:
    """Whether a roster of the class has reached the gateway."""
    with reading(source) as connection:
        return connection.execute(select(classes_view.c.class_id).where(
            classes_view.c.school_id == school_id, classes_view.c.class_id == class_id)
        ).first() is not None


def school_known(source: Source, school_id: str) -> bool:
    """Whether anything of the school (a roster, a name) has reached the gateway."""
    with reading(source) as connection:
        return any(connection.execute(select(table.c.school_id).where(
            table.c.school_id == school_id).limit(1)).first() is not None
            for table in (classes_view, names_view))


def teacher_known(source: Source, school_id: str, teacher_id: str) -> bool:
    """Whether the school's teacher profiles or rosters name this teacher."""
    with reading(source) as connection:
        named = connection.execute(select(names_view.c.entity_id).where(
            names_view.c.school_id == school_id, names_view.c.kind == "teacher",
            names_view.c.entity_id == teacher_id)).first()
        homeroom = connection.execute(select(classes_view.c.class_id).where(
            classes_view.c.school_id == school_id,
            classes_view.c.homeroom_teacher_id == teacher_id).limit(1)).first()
    return named is not None or homeroom is not None


def token_subject_problems(source: Source, school_id: str | None,
                           teacher_id: str | None) -> tuple[list[str], list[str]]:
    """(refusals, warnings) about a new token's school and teacher, in Russian.

    A teacher the school does not have is refused; a school the gateway has heard
    nothing from yet (a new school before its first events) is only warned about."""
    refusals: list[str] = []
    warnings: list[str] = []
    if school_id is None:
        return refusals, warnings
    with reading(source) as connection:
        known = school_known(connection, school_id)
        teacher_found = bool(known and teacher_id
                             and teacher_known(connection, school_id, teacher_id))
    if not known:
        warnings.append(f"школа {school_id} ещё не известна Kozomol: из Kundoluk не "
                        "поступало ни одного её события; проверьте идентификатор")
        if teacher_id:
            warnings.append(f"учителя {teacher_id} проверить нельзя, пока школа неизвестна")
    elif teacher_id and not teacher_found:
        refusals.append(f"учителя {teacher_id} в школе {school_id} нет (ни в профилях "
                        "учителей, ни классным руководителем)")
    return refusals, warnings
