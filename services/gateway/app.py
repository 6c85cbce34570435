"""The gateway's Flask application factory."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from services.gateway.runtime import EXTENSION, LIMITER_EXTENSION, Gateway
from services.gateway.web import (
    admin,
    audit,
    backups,
    console,
    findings,
    notifications,
    ops,
    print_jobs,
    reports,
    webhooks,
)
from services.gateway.web.errors import register_error_handlers
from shared.settings import Settings


class ApiJSON(DefaultJSONProvider):
    """JSON bodies of the API: whole numbers beyond 64 bits are no JSON it takes.

    Python reads integers of any size, but the JSON writer the services publish
    with (orjson) takes only 64-bit ones (signed, or unsigned up to 2**64 - 1, as
    the webhook intake reads them too); refusing the others where the body is read
    turns what would be a 500 deep in a handler into the ordinary "not a JSON
    object" answer.
    """

    ensure_ascii = False
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_int", _int64)
        return super().loads(s, **kwargs)


def _int64(text: str) -> int:
    value = int(text)
    if not -(2 ** 63) <= value < 2 ** 64:
        raise ValueError("integer beyond 64 bits")
    return value


class GatewayApp(Flask):
    json_provider_class = ApiJSON


def create_app(gateway: Gateway) -> Flask:
    app = GatewayApp("kozomol.gateway")
    # Werkzeug refuses to read past this many bytes (chunked bodies included).
    app.config["MAX_CONTENT_LENGTH"] = gateway.settings.max_body_bytes
    app.extensions[EXTENSION] = gateway
    _limit_rates(app, gateway.settings)
    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(findings.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(print_jobs.blueprint)
    app.register_blueprint(backups.blueprint)
    app.register_blueprint(audit.blueprint)
    app.register_blueprint(notifications.blueprint)
    app.register_blueprint(ops.blueprint)
    console.install(app)
    register_error_handlers(app)
    return app


#: The administrators' API: limited per token, per address and in failed authentications.
API_BLUEPRINTS = (admin.blueprint, findings.blueprint, reports.blueprint, print_jobs.blueprint,
                  backups.blueprint, audit.blueprint)


def _limit_rates(app: Flask, settings: Settings) -> None:
    """Rate limits (Flask-Limiter): the webhook's per sender address when set; the API's on
    by default, per token, per address, and per address in failed authentications.

    With several gunicorn workers, point the storage at Redis
    (KOZOMOL_RATE_LIMIT_STORAGE_URL), or each worker counts on its own. If that
    storage is unreachable, requests pass (swallow_errors): a limiter outage must
    not turn into refused journal entries.
    """
    limits = (settings.webhook_rate_limit, settings.api_rate_limit,
              settings.api_address_rate_limit, settings.auth_failure_limit)
    if not any(limits):
        return
    limiter = Limiter(get_remote_address, app=app, swallow_errors=True,
                      storage_uri=settings.rate_limit_storage_url)
    app.extensions[LIMITER_EXTENSION] = limiter
    if settings.webhook_rate_limit:
        limiter.limit(settings.webhook_rate_limit)(webhooks.blueprint)
    api_limits = []
    if settings.api_rate_limit:
        api_limits.append(limiter.shared_limit(settings.api_rate_limit, "api-token",
                                               key_func=_token_key))
    if settings.api_address_rate_limit:
        api_limits.append(limiter.shared_limit(settings.api_address_rate_limit, "api-address"))
    if settings.auth_failure_limit:
        # Only a 401 counts; past the limit the address is refused whatever it sends.
        api_limits.append(limiter.shared_limit(
            settings.auth_failure_limit, "auth-failures",
            deduct_when=lambda response: response.status_code == 401))
    for blueprint in API_BLUEPRINTS:
        for limit in api_limits:
            limit(blueprint)


def _token_key() -> str:
    """The bearer token's hash (the token itself never enters the limiter's storage)."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    if not token.strip():
        return "address:" + get_remote_address()
    return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
