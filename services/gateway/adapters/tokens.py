"""API tokens: shown once when created, stored only as SHA-256 hashes, expiring.

An unsalted SHA-256 suffices here: a token is 256 random bits, so there is no
dictionary to try and no point in a slow hash (docs/decisions.md, "API tokens
stored as SHA-256").
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from services.gateway.adapters.tables import api_tokens
from services.gateway.domain.access import Principal, Role

TOKEN_PREFIX = "kzm_"  # noqa: S105 - a prefix, not a secret
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 3660  # ten years: past it, datetime arithmetic is no longer the limit


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # the secret itself; never stored
    role: Role
    school_id: str | None
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    connection: Connection, role: Role, school_id: str | None, label: str | None = None,
    teacher_id: str | None = None, *, lifetime_days: int = DEFAULT_LIFETIME_DAYS,
    user_id: str | None = None,
) -> IssuedToken:
    if role is Role.ADMIN and school_id is not None:
        raise ValueError("an admin token covers every school; give no school")
    if role is not Role.ADMIN and not school_id:
        raise ValueError(f"a {role.value} token needs a school")
    if role in (Role.TEACHER, Role.CLASS_TEACHER) and not teacher_id:
        raise ValueError(f"a {role.value} token needs the teacher's id (--teacher)")
    if not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        raise ValueError(f"a token lives 1 to {MAX_LIFETIME_DAYS} days")
    token_id = secrets.token_hex(8)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires_at = now + timedelta(days=lifetime_days)
    connection.execute(insert(api_tokens).values(
        id=token_id, token_hash=_hash(token), role=role.value, school_id=school_id,
        label=label, teacher_id=teacher_id, created_at=now, expires_at=expires_at,
        user_id=user_id,
    ))
    return IssuedToken(token_id, token, role, school_id, expires_at)


def authenticate(connection: Connection, token: str,
                 now: datetime | None = None) -> Principal | None:
    """The token's principal, or None if it is unknown, revoked or expired."""
    row = connection.execute(
        select(api_tokens.c.id, api_tokens.c.role, api_tokens.c.school_id,
               api_tokens.c.teacher_id)
        .where(api_tokens.c.token_hash == _hash(token), api_tokens.c.revoked_at.is_(None),
               api_tokens.c.expires_at > (now or datetime.now(UTC)))
    ).first()
    if row is None:
        return None
    return Principal(token_id=row.id, role=Role(row.role), school_id=row.school_id,
                     teacher_id=row.teacher_id)


def revoke(connection: Connection, token_id: str) -> None:
    connection.execute(
        update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
