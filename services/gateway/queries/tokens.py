"""API tokens as the API lists them (``gateway_api_tokens``, written by
``adapters/tokens.py``; never their hashes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.gateway.adapters.tables import api_tokens
from services.gateway.adapters.tokens import authenticate
from services.gateway.domain.access import Principal
from services.gateway.queries import Source, reading


def listing(source: Source, school_id: str | None) -> list[dict[str, Any]]:
    """The tokens of a school (None: every one), by id."""
    query = select(api_tokens.c.id, api_tokens.c.role, api_tokens.c.school_id,
                   api_tokens.c.label, api_tokens.c.created_at, api_tokens.c.revoked_at,
                   api_tokens.c.expires_at)
    if school_id is not None:
        query = query.where(api_tokens.c.school_id == school_id)
    with reading(source) as connection:
        return [dict(row._mapping) for row in connection.execute(query.order_by(api_tokens.c.id))]


def find(source: Source, token_id: str) -> dict[str, Any] | None:
    with reading(source) as connection:
        row = connection.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return dict(row._mapping) if row else None


def principal_of(source: Source, token: str) -> Principal | None:
    """Who a bearer token is, or None if it is unknown, revoked or expired."""
    with reading(source) as connection:
        return authenticate(connection, token)
