"""The personal-data access log (``gateway_audit``): one line per API request made with a
token, per failed authentication, and per token issued or revoked.

A line names who (token id and role), which school, what (the operation, its
path parameters and filters, never a body), when, from where (the client
address) and how it ended (the status). It holds ids only, no names: the
log itself must not become a second copy of the personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert

from services.gateway.adapters.tables import audit

#: What a line says happened.
ACTIONS = ("read", "export", "write", "auth.failed", "token.issued", "token.revoked",
           # staff accounts of the console (issue 16)
           "user.created", "user.invite", "user.reset", "user.disable")
MAX_TARGET_TEXT = 200


def record(connection: Connection, *, at: datetime, action: str, resource: str,
           target: dict[str, Any], token_id: str | None = None, role: str | None = None,
           school_id: str | None = None, status: int | None = None,
           address: str | None = None) -> None:
    assert action in ACTIONS, action
    connection.execute(insert(audit).values(
        at=at, token_id=token_id, role=role, school_id=school_id, action=action,
        resource=resource[:200], target=_bounded(target), status=status,
        address=(address or "")[:64] or None))


def prune(connection: Connection, now: datetime, retention_days: int) -> int:
    """Delete the lines older than the retention; how many went."""
    result = connection.execute(delete(audit).where(
        audit.c.at < now - timedelta(days=retention_days)))
    return int(result.rowcount or 0)


def _bounded(target: dict[str, Any]) -> dict[str, str]:
    return {str(key)[:50]: str(value)[:MAX_TARGET_TEXT] for key, value in target.items()}
