"""Bearer tokens for the administrators' API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from services.gateway.adapters.tokens import authenticate
from services.gateway.domain.access import AccessDenied, Principal
from services.gateway.runtime import gateway_of
from services.gateway.web.errors import api_error

F = TypeVar("F", bound=Callable[..., Any])


def principal() -> Principal:
    found: Principal = g.principal
    return found


def requires_token(view: F) -> F:
    """401 without a valid token; 403 when the view raises :class:`AccessDenied`.

    Requests other than GET/HEAD are writes, which auditor tokens may not make.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return api_error(401, "unauthenticated", "a bearer token is required",
                             headers={"WWW-Authenticate": "Bearer"})
        with gateway_of(current_app).engine.connect() as connection:
            found = authenticate(connection, token.strip())
        if found is None:
            return api_error(401, "invalid_token", "the token is unknown or revoked",
                             headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        g.principal = found
        try:
            if request.method not in ("GET", "HEAD"):
                found.require_write()
            return view(*args, **kwargs)
        except AccessDenied as exc:
            return api_error(403, "forbidden", str(exc))

    return cast(F, wrapper)
