"""Writing the personal-data access log (``gateway_audit``): a line per API request, and
the token changes made through the API together with their lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from services.gateway.adapters import audit, tokens
from services.gateway.adapters.tokens import IssuedToken
from services.gateway.domain.access import Principal, Role
from services.gateway.queries.names import token_subject_problems
from services.gateway.queries.tokens import find


@dataclass(frozen=True)
class Asker:
    """Who made a request, as a log line names them (ids only)."""

    token_id: str | None
    role: str | None
    resource: str  # "<method> <route>"
    address: str | None


@dataclass(frozen=True)
class TokenIssue:
    """What issuing a token came to: the token, or the refusals; warnings either way."""

    issued: IssuedToken | None
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def record_access(engine: Engine, asker: Asker, *, action: str, target: dict[str, Any],
                  school_id: str | None, status: int, now: datetime,
                  prune_days: int | None = None) -> None:
    """One line for a request, in its own transaction; with ``prune_days``, the lines
    older than that go in the same transaction."""
    with engine.begin() as connection:
        audit.record(connection, at=now, action=action, resource=asker.resource,
                     target=target, token_id=asker.token_id, role=asker.role,
                     school_id=school_id, status=status, address=asker.address)
        if prune_days is not None:
            audit.prune(connection, now, prune_days)


def issue_token(engine: Engine, asker: Asker, role: Role, school_id: str | None, *,
                label: str | None, teacher_id: str | None, lifetime_days: int) -> TokenIssue:
    """Issue a token and log it, in one transaction. A teacher the school does not have is
    refused; a school not heard from yet is only warned about."""
    with engine.begin() as connection:
        refusals, warnings = token_subject_problems(connection, school_id, teacher_id)
        if refusals:
            return TokenIssue(None, refusals, warnings)
        issued = tokens.create_token(connection, role, school_id, label, teacher_id,
                                     lifetime_days=lifetime_days)
        _token_line(connection, asker, "token.issued", token_id=issued.id,
                    role=issued.role.value, school_id=issued.school_id)
    return TokenIssue(issued, [], warnings)


def revoke_token(engine: Engine, asker: Asker, who: Principal,
                 token_id: str) -> Literal["revoked", "not_found", "forbidden"]:
    """Revoke a token the principal may see and issue, and log it, in one transaction."""
    with engine.begin() as connection:
        found = find(connection, token_id)
        if found is None or not who.sees_school(found["school_id"]):
            return "not_found"
        if not who.may_issue(Role(found["role"]), found["school_id"]):
            return "forbidden"
        tokens.revoke(connection, token_id)
        _token_line(connection, asker, "token.revoked", token_id=token_id, role=found["role"],
                    school_id=found["school_id"])
    return "revoked"


def _token_line(connection: Connection, asker: Asker, action: str, *, token_id: str,
                role: str, school_id: str | None) -> None:
    audit.record(connection, at=datetime.now(UTC), action=action, resource=asker.resource,
                 target={"token_id": token_id, "role": role, "school_id": school_id or "*"},
                 token_id=asker.token_id, role=asker.role, school_id=school_id, status=None,
                 address=asker.address)
