"""The gateway's Flask application factory."""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from services.gateway.runtime import EXTENSION, LIMITER_EXTENSION, Gateway
from services.gateway.web import (
    admin,
    audit,
    backups,
    findings,
    ops,
    print_jobs,
    reports,
    webhooks,
)
from services.gateway.web.errors import register_error_handlers
from shared.settings import Settings


def create_app(gateway: Gateway) -> Flask:
    app = Flask("kozomol.gateway")
    # Werkzeug refuses to read past this many bytes (chunked bodies included).
    app.config["MAX_CONTENT_LENGTH"] = gateway.settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = gateway
    _limit_rates(app, gateway.settings)
    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(findings.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(print_jobs.blueprint)
    app.register_blueprint(backups.blueprint)
    app.register_blueprint(audit.blueprint)
    app.register_blueprint(ops.blueprint)
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
