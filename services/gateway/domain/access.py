"""Who may see and change what in the administrators' API (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"              # every school
    DIRECTOR = "director"
    DEPUTY = "deputy"
    CLASS_TEACHER = "class_teacher"
    TEACHER = "teacher"
    AUDITOR = "auditor"          # read-only


#: Roles that may read what the gateway keeps about intake (quarantine, events).
INTAKE_READERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.AUDITOR})
#: Roles that may ask for backups and the year-end archive, and those that may list them.
BACKUP_MAKERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})
BACKUP_READERS = BACKUP_MAKERS | {Role.AUDITOR}
#: Roles that may issue and revoke tokens, and which roles each may issue.
TOKEN_ISSUERS: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.DIRECTOR: frozenset({Role.DEPUTY, Role.CLASS_TEACHER, Role.TEACHER, Role.AUDITOR}),
}


class AccessDenied(Exception):
    """The token is valid but not allowed to do this (403)."""


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: Role
    school_id: str | None  # None only for admin
    #: a teacher's token sees that teacher's findings only; a class teacher's also those
    #: of the classes they are homeroom teacher of
    teacher_id: str | None = None

    @property
    def all_schools(self) -> bool:
        return self.role is Role.ADMIN

    def sees_school(self, school_id: str | None) -> bool:
        return self.all_schools or (school_id is not None and school_id == self.school_id)

    def school_filter(self, requested: str | None) -> str | None:
        """The school a listing is limited to; asking for another school is refused."""
        if self.all_schools:
            return requested
        if requested is not None and requested != self.school_id:
            raise AccessDenied("токен действует только в своей школе")
        return self.school_id

    def require(self, roles: frozenset[Role]) -> None:
        if self.role not in roles:
            raise AccessDenied(f"роли {self.role.value} это недоступно")

    def require_write(self) -> None:
        if self.role is Role.AUDITOR:
            raise AccessDenied("токен аудитора — только для чтения")

    def may_see_teacher(self, school_id: str | None, teacher_id: str) -> bool:
        """A teacher (and a class teacher) sees their own page; the school's heads any."""
        if self.role in (Role.TEACHER, Role.CLASS_TEACHER):
            return self.sees_school(school_id) and teacher_id == self.teacher_id
        return self.sees_school(school_id)

    def may_see_class(self, school_id: str | None, homeroom_teacher_id: str | None) -> bool:
        """A class's page: the school's heads any class of their school; a teacher or class
        teacher only a class they are homeroom teacher of (their other lessons' findings
        they see on their own page)."""
        if self.role in (Role.TEACHER, Role.CLASS_TEACHER):
            return self.sees_school(school_id) and homeroom_teacher_id is not None and \
                homeroom_teacher_id == self.teacher_id
        return self.sees_school(school_id)

    def may_issue(self, role: Role, school_id: str | None) -> bool:
        allowed = TOKEN_ISSUERS.get(self.role, frozenset())
        if role not in allowed:
            return False
        if role is Role.ADMIN:
            return school_id is None
        return school_id is not None and self.sees_school(school_id)
