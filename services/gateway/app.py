"""The gateway's Flask application factory."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from services.gateway.runtime import EXTENSION, LIMITER_EXTENSION, Gateway
from services.gateway.web import (
    admin,
    backups,
    findings,
    notifications,
    ops,
    print_jobs,
    reports,
    webhooks,
)
from services.gateway.web.errors import register_error_handlers


def create_app(gateway: Gateway) -> Flask:
    app = Flask("kozomol.gateway")
    # Werkzeug refuses to read past this many bytes (chunked bodies included).
    app.config["MAX_CONTENT_LENGTH"] = gateway.settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = gateway
    if gateway.settings.webhook_rate_limit:
        # Per sender address. With several gunicorn workers, point the storage at
        # Redis (KOZOMOL_RATE_LIMIT_STORAGE_URL), or each worker counts on its own.
        # If that storage is unreachable, requests pass (swallow_errors): a limiter
        # outage must not turn into refused journal entries.
        limiter = Limiter(get_remote_address, app=app, swallow_errors=True,
                          storage_uri=gateway.settings.rate_limit_storage_url)
        limiter.limit(gateway.settings.webhook_rate_limit)(webhooks.blueprint)
        app.extensions[LIMITER_EXTENSION] = limiter
    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(findings.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(print_jobs.blueprint)
    app.register_blueprint(backups.blueprint)
    app.register_blueprint(notifications.blueprint)
    app.register_blueprint(ops.blueprint)
    register_error_handlers(app)
    return app
