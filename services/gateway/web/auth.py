"""Bearer tokens for the administrators' API, and the access log of every use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from services.gateway.domain.access import AccessDenied, Principal
from services.gateway.handlers.access_log import Asker, record_access
from services.gateway.queries.tokens import principal_of
from services.gateway.runtime import gateway_of
from services.gateway.web.errors import api_error

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

#: How often a gateway process deletes the access-log lines past their retention.
PRUNE_EVERY_SECONDS = 3600.0
#: Query arguments that say nothing about what was read (left out of the log line).
NOT_A_TARGET = frozenset({"cursor", "limit"})


def principal() -> Principal:
    found: Principal = g.principal
    return found


def requires_token(view: F) -> F:
    """401 without a valid token; 403 when the view raises :class:`AccessDenied`.

    Requests other than GET/HEAD are writes, which auditor tokens may not make.
    Every request with a token, and every failed authentication, leaves a line
    in the access log (``handlers/access_log.py``); a read whose line cannot be
    written is not answered (503).
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            _log_access(None, 401)
            return api_error(401, "unauthenticated",
                             "нужен токен доступа (Authorization: Bearer …)",
                             headers={"WWW-Authenticate": "Bearer"})
        found = principal_of(gateway_of(current_app).engine, token.strip())
        if found is None:
            _log_access(None, 401)
            return api_error(401, "invalid_token", "токен неизвестен, отозван или истёк",
                             headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        g.principal = found
        try:
            if request.method not in ("GET", "HEAD"):
                found.require_write()
            response = current_app.make_response(view(*args, **kwargs))
        except AccessDenied as exc:
            response = api_error(403, "forbidden", str(exc))
        except HTTPException as exc:  # answered by the app's error handlers; logged here
            _log_access(found, exc.code or 500)
            raise
        if not _log_access(found, response.status_code) and request.method in ("GET", "HEAD"):
            return api_error(503, "unavailable",
                             "обращение нельзя записать в журнал доступа; повторите позже",
                             headers={"Retry-After": "30"})
        return response

    return cast(F, wrapper)


def asker() -> Asker:
    """Who makes this request, as an access-log line names them."""
    return _asker(g.get("principal"))


def _asker(who: Principal | None) -> Asker:
    return Asker(token_id=who.token_id if who else None, role=who.role.value if who else None,
                 resource=f"{request.method} {_route()}", address=request.remote_addr)


def _log_access(who: Principal | None, status: int) -> bool:
    """One access-log line for this request; False when it could not be written."""
    gateway = gateway_of(current_app)
    now = datetime.now(UTC)
    target = {**(request.view_args or {}),
              **{key: value for key, value in request.args.items() if key not in NOT_A_TARGET}}
    if who is None:
        action = "auth.failed"
    elif request.method not in ("GET", "HEAD"):
        action = "write"
    elif request.args.get("format") in ("csv", "xlsx") or _route().endswith(("/pdf",
                                                                            "/download")):
        action = "export"
    else:
        action = "read"
    school_id = None
    if who is not None:
        school_id = who.school_id if not who.all_schools else request.args.get("school_id")
    prune_days = None
    if now.timestamp() - gateway.audit_pruned_at > PRUNE_EVERY_SECONDS:
        gateway.audit_pruned_at = now.timestamp()  # one pruning an hour, even if it fails
        prune_days = gateway.settings.audit_retention_days
    try:
        record_access(gateway.engine, _asker(who), action=action, target=target,
                      school_id=school_id, status=status, now=now, prune_days=prune_days)
    except DBAPIError:
        log.exception("cannot write the access log")
        return False
    return True


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else request.path[:200]
