"""Role and school scoping of the administrators' API."""

from __future__ import annotations

import pytest

from services.gateway.domain.access import INTAKE_READERS, AccessDenied, Principal, Role


def principal(role: Role, school: str | None = "a") -> Principal:
    return Principal("tok", role, None if role is Role.ADMIN else school)


def test_admin_sees_every_school_and_may_filter() -> None:
    admin = principal(Role.ADMIN)
    assert admin.sees_school("a") and admin.sees_school("b") and admin.sees_school(None)
    assert admin.school_filter(None) is None
    assert admin.school_filter("b") == "b"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_school_roles_see_only_their_school(role: Role) -> None:
    who = principal(role)
    assert who.sees_school("a")
    assert not who.sees_school("b")
    assert not who.sees_school(None)
    assert who.school_filter(None) == "a"
    assert who.school_filter("a") == "a"
    with pytest.raises(AccessDenied):
        who.school_filter("b")


def test_auditor_is_read_only() -> None:
    with pytest.raises(AccessDenied):
        principal(Role.AUDITOR).require_write()
    principal(Role.DEPUTY).require_write()


def test_teachers_do_not_read_intake_records() -> None:
    for role in (Role.TEACHER, Role.CLASS_TEACHER):
        with pytest.raises(AccessDenied):
            principal(role).require(INTAKE_READERS)
    principal(Role.DEPUTY).require(INTAKE_READERS)


def test_who_may_issue_which_tokens() -> None:
    director, admin = principal(Role.DIRECTOR), principal(Role.ADMIN)
    assert director.may_issue(Role.TEACHER, "a")
    assert not director.may_issue(Role.TEACHER, "b")
    assert not director.may_issue(Role.DIRECTOR, "a")
    assert not director.may_issue(Role.ADMIN, None)
    assert admin.may_issue(Role.ADMIN, None)
    assert not admin.may_issue(Role.ADMIN, "a")
    assert not admin.may_issue(Role.DEPUTY, None)
    assert not principal(Role.DEPUTY).may_issue(Role.TEACHER, "a")

